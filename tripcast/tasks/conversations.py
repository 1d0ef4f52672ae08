"""Read receipts (and the typing indicator) for answered travellers, as a Prefect task."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tripcast.conversations.acknowledge import AcknowledgeReport
from tripcast.tasks.decorator import database_task


@database_task("acknowledge-answers")
def acknowledge_answers_task(*, now: datetime) -> AcknowledgeReport | None:
    """Mark answered travellers' latest messages read; None without WhatsApp settings."""
    from tripcast.conversations.acknowledge import acknowledge_configured
    from tripcast.models.engine import get_engine
    from tripcast.settings import get_settings

    return acknowledge_configured(get_engine(), now=now, settings=get_settings())


def acknowledge_rows(report: AcknowledgeReport | None) -> list[dict[str, Any]]:
    """Rows for the sweep's summary table."""
    if report is None:
        return []
    counts = {
        "marked_read": report.marked_read,
        "typing_shown": report.typing_shown,
        "refused": report.refused,
        "postponed": report.postponed,
    }
    return [
        {"step": "acknowledge", "outcome": outcome, "reason": "", "count": count}
        for outcome, count in counts.items()
        if count
    ]
