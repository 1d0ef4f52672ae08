"""Read receipts (and the typing indicator) for answered travellers, as a Prefect task."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from tripcast.conversations.acknowledge import AcknowledgeReport
from tripcast.tasks.retry import database_task


@database_task("acknowledge-answers")
def acknowledge_answers_task(*, now: datetime) -> AcknowledgeReport | None:
    """Mark answered travellers' latest messages read; None without WhatsApp settings."""
    from tripcast.conversations.acknowledge import acknowledge_answers
    from tripcast.models.engine import get_engine
    from tripcast.settings import get_settings
    from tripcast.whatsapp.client import WhatsAppClient

    settings = get_settings()
    if settings.whatsapp_phone_number_id is None or settings.whatsapp_access_token is None:
        return None

    async def run() -> AcknowledgeReport:
        async with WhatsAppClient.from_settings(settings) as client:
            return await acknowledge_answers(
                get_engine(), client, now=now, typing=settings.whatsapp_typing_indicator
            )

    return asyncio.run(run())


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
