"""Stored deliveries and row readers for the webhook tests; travellers and outbound
messages come from the world builder (``tests.support.world``)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tests.support.world import Traveller, make_outbound, make_traveller

__all__ = [
    "Traveller",
    "at",
    "make_outbound",
    "make_traveller",
    "message_row",
    "rows",
    "scalar",
    "store_delivery",
]


def store_delivery(connection: Connection, data: dict[str, Any]) -> uuid.UUID:
    """Store a delivery as the receiver would (for tests of the ingest alone)."""
    raw = json.dumps(data)
    row_id: uuid.UUID = connection.exec_driver_sql(
        "INSERT INTO webhook_deliveries (body_sha256, payload) VALUES (%(h)s, %(p)s::jsonb) "
        "RETURNING id",
        {"h": hashlib.sha256(raw.encode()).hexdigest(), "p": raw},
    ).scalar_one()
    return row_id


def message_row(engine: Engine, message_id: uuid.UUID) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT status, external_id, sent_at, delivered_at, read_at, failed_at, error_code, "
            "failed_reason FROM whatsapp_messages WHERE id = %(id)s",
            {"id": message_id},
        ).mappings()
        return dict(row.one())


def rows(engine: Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.exec_driver_sql(sql, params).mappings()]


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.exec_driver_sql(sql, params).scalar()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
