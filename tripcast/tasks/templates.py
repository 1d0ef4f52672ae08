"""The template catalog's refresh as a Prefect task: retried on transient failures only."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from tripcast.tasks.retry import DATABASE_RETRIES, is_transient


def _worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """A dropped database or a Cloud API that did not answer: yes; a refusal: no."""
    from tripcast.whatsapp.errors import WhatsAppError

    try:
        state.result()
    except WhatsAppError as error:
        return error.transient
    except Exception as error:
        return is_transient(error)
    return False


@task(
    name="sync-template-catalog",
    cache_policy=NO_CACHE,
    **(DATABASE_RETRIES | {"retry_condition_fn": _worth_retrying}),
)
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
