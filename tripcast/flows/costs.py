"""The daily cost report: yesterday's billable messages and estimated cost, as artifacts.

Counts are what Meta's status receipts said (``whatsapp_message_pricing``); prices come
from the operator's rate card (the ``rate_card`` parameter, else
``TRIPCAST_COSTS_RATE_CARD``). Without a card the run still publishes billable messages
per day, category and country, and says there is no estimate. A card that does not
validate fails the run with the file and line at fault.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from prefect import flow, get_run_logger

from tripcast.flows.timing import run_name
from tripcast.rules.clock import resolve_now
from tripcast.tasks.costs import build_cost_report, publish_cost_report


@flow(name="whatsapp-costs", flow_run_name=run_name("whatsapp-costs"))
def daily_costs(
    now: datetime | None = None, days: int = 1, rate_card: str | None = None
) -> dict[str, str | int]:
    """Publish the ``days`` whole UTC days before ``now``'s day; the totals."""
    from tripcast.settings import get_settings

    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    last_day = resolve_now(now).date() - timedelta(days=1)
    first_day = last_day - timedelta(days=days - 1)
    card = Path(rate_card) if rate_card else get_settings().costs_rate_card
    report = build_cost_report(first_day, last_day, card)
    publish_cost_report(report)
    get_run_logger().info("%s", report.summary())
    return {
        "billable": report.billable,
        "cost": str(report.cost),
        "currency": report.currency or "",
    }
