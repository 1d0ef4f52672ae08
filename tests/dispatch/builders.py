"""Outbox test data for dispatch: the world's builders with numbers the fake accepts, and
reading messages and logs back."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tests.support import world
from tests.support.world import Traveller, queue_message

__all__ = [
    "TEMPLATE",
    "Traveller",
    "count",
    "logs_of",
    "make_traveller",
    "message",
    "queue_message",
]

# Valid Portuguese mobile numbers, distinct per traveller (the fake validates them).
_numbers = itertools.count(351_912_000_001)


def make_traveller(
    connection: Connection, *, phone: str | None = None, **options: Any
) -> Traveller:
    """``world.make_traveller`` with a number the fake Cloud API accepts."""
    return world.make_traveller(connection, phone=phone or str(next(_numbers)), **options)


TEMPLATE = {
    "name": "trip_reminder",
    "language": {"code": "en_US"},
    "components": [{"type": "body", "parameters": [{"type": "text", "text": "Porto"}]}],
}


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
