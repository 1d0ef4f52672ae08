"""The cost report as Prefect tasks: build it from the database, publish it as artifacts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tripcast.costs.breakdown import CostReport
from tripcast.tasks.decorator import database_task


@database_task("build-cost-report")
def build_cost_report(first_day: date, last_day: date, rate_card: Path | None) -> CostReport:
    """Counts from ``whatsapp_message_pricing`` priced from the card (a bad card fails)."""
    from tripcast.costs.breakdown import cost_report
    from tripcast.costs.ratecard import load_rate_card
    from tripcast.models.engine import get_engine

    card = load_rate_card(rate_card) if rate_card is not None else None
    return cost_report(get_engine(), first_day=first_day, last_day=last_day, card=card)


@database_task("publish-cost-report")
def publish_cost_report(report: CostReport) -> None:
    """A table artifact (one row per day × category × country) and a bar chart."""
    from tripcast.costs.chart import markdown_chart

    create_table_artifact(
        key="whatsapp-costs",
        table=[row.as_dict(report.currency) for row in report.rows],
        description=report.summary(),
    )
    create_markdown_artifact(
        key="whatsapp-costs-chart",
        markdown=markdown_chart(report),
        description="Estimated WhatsApp cost per day, by category",
    )
