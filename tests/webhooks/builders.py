"""Travellers, outbound messages and stored deliveries for the webhook tests (plain SQL)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tests.support.world import insert, make_account, make_user


@dataclass(frozen=True)
class Traveller:
    user: uuid.UUID
    account: uuid.UUID
    phone: str


def make_traveller(
    connection: Connection, *, phone: str | None = None, opt_in_status: str = "opted_in"
) -> Traveller:
    user = make_user(connection)
    account = make_account(connection, user_id=user, phone=phone, opt_in_status=opt_in_status)
    stored = connection.exec_driver_sql(
        "SELECT phone_number FROM whatsapp_accounts WHERE id = %(a)s", {"a": account}
    ).scalar_one()
    return Traveller(user=user, account=account, phone=stored)


def make_outbound(
    connection: Connection,
    traveller: Traveller,
    *,
    status: str = "sent",
    wamid: str | None = None,
    **columns: Any,
) -> uuid.UUID:
    return insert(
        connection,
        "whatsapp_messages",
        user_id=traveller.user,
        whatsapp_account_id=traveller.account,
        direction="outbound",
        message_type="text",
        content=columns.pop("content", "Your trip to Lisbon starts tomorrow"),
        status=status,
        external_id=wamid,
        **columns,
    )


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
