"""Outbox test data: travellers and queued messages, written as plain SQL."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tests.support.world import make_account, make_user

# Valid Portuguese mobile numbers, distinct per traveller (the fake validates them).
_numbers = itertools.count(351_912_000_001)


@dataclass(frozen=True)
class Traveller:
    user_id: uuid.UUID
    account_id: uuid.UUID
    phone: str


def make_traveller(
    connection: Connection,
    *,
    opt_in_status: str = "opted_in",
    last_inbound_at: datetime | None = None,
    marketing: bool | None = None,
    phone: str | None = None,
) -> Traveller:
    user_id = make_user(connection)
    number = phone or str(next(_numbers))
    account_id = make_account(
        connection, user_id=user_id, phone=number, opt_in_status=opt_in_status
    )
    if last_inbound_at is not None:
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET last_inbound_at = %(at)s WHERE id = %(id)s",
            {"at": last_inbound_at, "id": account_id},
        )
    if marketing is not None:
        connection.exec_driver_sql(
            "INSERT INTO notification_preferences (user_id, marketing) VALUES (%(u)s, %(m)s)",
            {"u": user_id, "m": marketing},
        )
    return Traveller(user_id, account_id, number)


TEMPLATE = {
    "name": "trip_reminder",
    "language": {"code": "en_US"},
    "components": [{"type": "body", "parameters": [{"type": "text", "text": "Porto"}]}],
}


def queue_message(
    connection: Connection,
    traveller: Traveller,
    *,
    content: str = "Your trip starts tomorrow",
    message_type: str = "text",
    metadata: dict[str, Any] | None = None,
    **columns: Any,
) -> uuid.UUID:
    """An outbound pending message with only the seed's columns unless ``columns`` add more."""
    values: dict[str, Any] = {
        "user_id": traveller.user_id,
        "whatsapp_account_id": traveller.account_id,
        "direction": "outbound",
        "message_type": message_type,
        "content": content,
        **columns,
    }
    if metadata is not None:
        values["metadata"] = json.dumps(metadata)
    names = ", ".join(values)
    placeholders = ", ".join(f"%({key})s" for key in values)
    message_id: uuid.UUID = connection.exec_driver_sql(
        f"INSERT INTO whatsapp_messages ({names}) VALUES ({placeholders}) RETURNING id", values
    ).scalar_one()
    return message_id


def message(engine: Engine, message_id: uuid.UUID) -> dict[str, Any]:
    with engine.connect() as connection:
        row = (
            connection.exec_driver_sql(
                "SELECT * FROM whatsapp_messages WHERE id = %(id)s", {"id": message_id}
            )
            .mappings()
            .one()
        )
    return dict(row)


def logs_of(engine: Engine, message_id: uuid.UUID) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT * FROM delivery_logs WHERE whatsapp_message_id = %(id)s ORDER BY attempt, "
            "created_at",
            {"id": message_id},
        ).mappings()
        return [dict(row) for row in rows]


def count(engine: Engine, query: str, **params: Any) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(query, params).scalar_one())
