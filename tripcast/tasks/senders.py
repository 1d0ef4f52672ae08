"""The senders' refresh from the Cloud API as a Prefect task: retried on transient
database failures only (a number Meta refuses is reported, not retried)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from tripcast.tasks.decorator import database_task


@database_task("sync-senders")
def sync_sender_states(now: datetime) -> dict[str, list[str]] | None:
    """Read every sender's rating, tier and throughput and store them; None when no
    access token is configured. The lines read and refused, for the run's summary."""
    from tripcast.models.engine import get_engine
    from tripcast.senders.sync import sync_from_settings
    from tripcast.settings import get_settings

    settings = get_settings()
    if settings.whatsapp_access_token is None:
        return None
    report = asyncio.run(sync_from_settings(get_engine(), settings, now=now))
    return {"read": report.synced_lines(), "refused": report.refused_lines()}
