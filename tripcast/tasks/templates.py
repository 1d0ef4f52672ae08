"""The template catalog's refresh as a Prefect task: retried on transient failures only."""

from __future__ import annotations

import asyncio
from datetime import datetime

from tripcast.tasks.decorator import database_task


# A dropped database or a Cloud API that did not answer is retried, a refusal is not
# (``WhatsAppError.transient`` says which).
@database_task("sync-template-catalog")
def sync_template_catalog(now: datetime) -> dict[str, int] | None:
    """List the account's templates and upsert them; None when no account is configured."""
    from tripcast.models.engine import get_engine
    from tripcast.settings import get_settings
    from tripcast.templates.sync import sync_from_settings

    settings = get_settings()
    if settings.whatsapp_business_account_id is None:
        return None
    counts = asyncio.run(sync_from_settings(get_engine(), settings, now=now))
    return {
        "new": counts.new,
        "changed": counts.changed,
        "unchanged": counts.unchanged,
        "gone": counts.gone,
    }
