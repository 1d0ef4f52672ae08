"""Status receipts delivered the way production takes them: a stored webhook delivery,
applied by the ingest (which settles sends in doubt by their callback data)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import store_delivery
from tripcast.webhooks.ingest import ingest_once

# A message "takes" a receipt when its status or wamid changes (timestamps may fill in).
SETTLED = "status, external_id"


def receipt(
    message_id: uuid.UUID | str,
    wamid: str,
    status: str,
    at: datetime,
    *,
    error_code: int | None = None,
    error_message: str | None = None,
) -> dict[str, Any]:
    """One status naming ``message_id`` in its callback data, as dispatch sends it."""
    errors = None
    if error_code is not None:
        errors = [meta.meta_error(error_code, error_message or "Message undeliverable")]
    return meta.status(wamid, status, at, callback=str(message_id), errors=errors)


def _states(engine: Engine) -> dict[uuid.UUID, tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"SELECT id, {SETTLED} FROM whatsapp_messages")
        return {row[0]: tuple(row[1:]) for row in rows}


def deliver_receipts(engine: Engine, statuses: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Ingest one delivery holding ``statuses``; the ids of the messages it changed."""
    before = _states(engine)
    with engine.begin() as connection:
        store_delivery(connection, meta.payload(statuses=statuses))
    ingest_once(engine)
    return {key for key, state in _states(engine).items() if before.get(key) != state}


def settle_by_receipt(
    engine: Engine, message_id: uuid.UUID | str, wamid: str, status: str, at: datetime, **error: Any
) -> bool:
    """One receipt: True when message ``message_id`` took it."""
    changed = deliver_receipts(engine, [receipt(message_id, wamid, status, at, **error)])
    return uuid.UUID(str(message_id)) in changed
