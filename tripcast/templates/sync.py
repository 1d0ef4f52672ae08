"""``tripcast templates sync``: the catalog refreshed from the Cloud API's listing.

The whole listing is read first (every page), then written in one transaction, so a
listing that fails half way (an expired token, a dropped connection) changes nothing
and marks nothing as gone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine

from tripcast.models.templates import WhatsAppTemplateCreate
from tripcast.settings import ConfigError, Settings
from tripcast.templates.records import SyncCounts, upsert_listing
from tripcast.whatsapp.api_errors import MalformedResponseError
from tripcast.whatsapp.templates import PAGE_LIMIT, ListedTemplate, TemplatesClient

REQUIRED = ("whatsapp_business_account_id", "whatsapp_access_token")


def client_from_settings(settings: Settings, **overrides: Any) -> TemplatesClient:
    """A listing client for ``TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID``; ``ConfigError`` when
    the account id or the token is unset."""
    settings.require(*REQUIRED)
    token = settings.whatsapp_access_token
    assert token is not None and settings.whatsapp_business_account_id is not None
    options: dict[str, Any] = {
        "waba_id": settings.whatsapp_business_account_id,
        "access_token": token.get_secret_value(),
        "base_url": settings.whatsapp_api_url,
        "api_version": settings.whatsapp_api_version,
    }
    return TemplatesClient(**(options | overrides))


def catalog_row(listed: ListedTemplate, *, waba_id: str) -> WhatsAppTemplateCreate:
    try:
        return WhatsAppTemplateCreate(
            name=listed.name,
            language=listed.language,
            category=listed.category,
            status=listed.status,
            quality=listed.quality,
            components=listed.components,
            waba_id=waba_id,
            meta_template_id=listed.id,
        )
    except ValidationError as error:
        raise MalformedResponseError(
            f"template {listed.name!r} in the listing is unusable: {error.errors()[0]['msg']}"
        ) from None


async def sync_templates(
    engine: Engine,
    client: TemplatesClient,
    *,
    waba_id: str,
    now: datetime | None = None,
    page_limit: int = PAGE_LIMIT,
) -> SyncCounts:
    """Read every page of the listing, then upsert it in one transaction."""
    listed = client.iter_templates(limit=page_limit)
    rows = [catalog_row(t, waba_id=waba_id) async for t in listed]
    with engine.begin() as connection:
        return upsert_listing(connection, rows, waba_id=waba_id, now=now or datetime.now(UTC))


async def sync_from_settings(
    engine: Engine, settings: Settings, *, now: datetime | None = None, page_limit: int = PAGE_LIMIT
) -> SyncCounts:
    if settings.whatsapp_business_account_id is None:
        raise ConfigError("TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID is not set (required here)")
    async with client_from_settings(settings) as client:
        return await sync_templates(
            engine,
            client,
            waba_id=settings.whatsapp_business_account_id,
            now=now,
            page_limit=page_limit,
        )
