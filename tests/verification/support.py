"""Helpers for verification tests: read what was queued, and the account's state."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Engine


def sent_code(engine: Engine, message_id: uuid.UUID) -> str:
    """The code as the traveller receives it: the template's body parameter."""
    with engine.connect() as connection:
        code: str = connection.exec_driver_sql(
            "SELECT metadata -> 'template' -> 'components' -> 0 -> 'parameters' -> 0 ->> 'text' "
            "FROM whatsapp_messages WHERE id = %(id)s",
            {"id": message_id},
        ).scalar_one()
    return code


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def account_of(engine: Engine, user_id: uuid.UUID) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT * FROM whatsapp_accounts WHERE user_id = %(u)s", {"u": user_id}
        ).mappings()
        return dict(row.one())


def message_of(engine: Engine, message_id: uuid.UUID) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT * FROM whatsapp_messages WHERE id = %(id)s", {"id": message_id}
        ).mappings()
        return dict(row.one())
