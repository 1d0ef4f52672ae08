"""``tripcast report costs``: billable WhatsApp messages and their estimated cost."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tripcast.commands.runtime import migrated_engine

EXIT_BAD_CARD = 2
DEFAULT_DAYS = 7


def _costs(args: argparse.Namespace) -> int:
    from tripcast.costs.breakdown import cost_report
    from tripcast.costs.chart import svg_chart, text_chart
    from tripcast.costs.ratecard import RateCardError, load_rate_card

    last_day = args.until or datetime.now(UTC).date()
    first_day = args.since or last_day - timedelta(days=DEFAULT_DAYS - 1)
    try:
        card = load_rate_card(args.rate_card) if args.rate_card else None
    except RateCardError as error:
        print(f"tripcast: {error}", file=sys.stderr)  # nothing is reported from a bad card
        return EXIT_BAD_CARD
    report = cost_report(migrated_engine(), first_day=first_day, last_day=last_day, card=card)
    print(text_chart(report))
    print()
    print(report.to_csv(), end="")
    print(report.summary())
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report.to_csv(), encoding="utf-8")
        chart = args.output.with_suffix(".svg")
        chart.write_text(svg_chart(report), encoding="utf-8")
        print(f"written: {args.output} and {chart}")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def register(commands: Any) -> None:
    parser = commands.add_parser("report", help="reports on what tripcast sent")
    kinds = parser.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    costs = kinds.add_parser(
        "costs",
        help="billable messages and estimated cost per day, category and destination country",
    )
    costs.add_argument("--since", type=_day, help="first day, UTC (default: 6 days before --until)")
    costs.add_argument("--until", type=_day, help="last day, UTC, included (default: today)")
    costs.add_argument("--rate-card", type=Path, help="CSV: country,category,price,currency")
    costs.add_argument("--output", type=Path, help="write the CSV here and the SVG chart beside it")
    costs.set_defaults(handler=_costs)
