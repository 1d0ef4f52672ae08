"""``tripcast forecast``: would a planned batch exceed the portfolio's messaging limit?"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

EXIT_OVER = 1


def _forecast(args: argparse.Namespace) -> int:
    from tripcast.commands.runtime import migrated_engine, parse_now
    from tripcast.senders.limits import forecast
    from tripcast.senders.registry import list_senders

    if args.count is not None and args.count < 0:
        raise ValueError(f"--count must not be negative, got {args.count}")
    now = parse_now(args.now) or datetime.now(UTC)
    with migrated_engine().connect() as connection:
        result = forecast(connection, list_senders(connection), now=now, count=args.count)
    print(result.summary())
    return EXIT_OVER if result.over_by else 0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "forecast", help="whether a batch would exceed the messaging limit (exit 1 if so)"
    )
    parser.add_argument(
        "--count", type=int, help="new users the batch reaches (default: the pending queue's)"
    )
    parser.add_argument("--now", help="the instant to judge at, ISO 8601 with a timezone")
    parser.set_defaults(handler=_forecast)
