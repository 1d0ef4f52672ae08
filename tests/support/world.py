"""The test world's one builder: users, travellers, trips, rules and outbound messages,
written as plain SQL against a connection. Package test helpers re-export from here."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Connection

_phones = itertools.count(5_550_000)


def make_user(connection: Connection, *, email: str | None = None) -> uuid.UUID:
    user_id = uuid.uuid4()
    connection.exec_driver_sql(
        "INSERT INTO auth.users (id, email) VALUES (%(id)s, %(email)s)",
        {"id": user_id, "email": email or f"{user_id.hex[:8]}@example.test"},
    )
    return user_id


def make_account(
    connection: Connection,
    *,
    user_id: uuid.UUID,
    phone: str | None = None,
    opt_in_status: str = "opted_in",
    verified: bool = True,
) -> uuid.UUID:
    account_id: uuid.UUID = connection.exec_driver_sql(
        "INSERT INTO whatsapp_accounts (user_id, phone_number, country_code, is_verified, "
        "opt_in_status) VALUES (%(u)s, %(p)s, 'US', %(v)s, %(o)s) RETURNING id",
        {"u": user_id, "p": phone or f"1415{next(_phones):07d}", "v": verified, "o": opt_in_status},
    ).scalar_one()
    return account_id


@dataclass(frozen=True)
class Traveller:
    """A user with a WhatsApp account."""

    user: uuid.UUID
    account: uuid.UUID
    phone: str

    @property
    def user_id(self) -> uuid.UUID:
        return self.user

    @property
    def account_id(self) -> uuid.UUID:
        return self.account


def make_traveller(
    connection: Connection,
    *,
    phone: str | None = None,
    opt_in_status: str = "opted_in",
    verified: bool = True,
    last_inbound_at: datetime | None = None,
    marketing: bool | None = None,
) -> Traveller:
    """A user and an account; ``last_inbound_at`` opens the 24-hour window, ``marketing``
    sets the marketing preference."""
    user = make_user(connection)
    account = make_account(
        connection, user_id=user, phone=phone, opt_in_status=opt_in_status, verified=verified
    )
    stored: str = connection.exec_driver_sql(
        "UPDATE whatsapp_accounts SET last_inbound_at = coalesce(%(at)s, last_inbound_at) "
        "WHERE id = %(a)s RETURNING phone_number",
        {"at": last_inbound_at, "a": account},
    ).scalar_one()
    if marketing is not None:
        set_preferences(connection, user_id=user, marketing=marketing)
    return Traveller(user=user, account=account, phone=stored)


def make_outbound(
    connection: Connection,
    traveller: Traveller,
    *,
    status: str | None = "sent",
    wamid: str | None = None,
    content: str = "Your trip to Lisbon starts tomorrow",
    message_type: str = "text",
    metadata: dict[str, Any] | None = None,
    **columns: Any,
) -> uuid.UUID:
    """An outbound message; ``status=None`` leaves the column's default (pending)."""
    values: dict[str, Any] = {
        "user_id": traveller.user,
        "whatsapp_account_id": traveller.account,
        "direction": "outbound",
        "message_type": message_type,
        "content": content,
        **columns,
    }
    if status is not None:
        values["status"] = status
    if wamid is not None:
        values["external_id"] = wamid
    if metadata is not None:
        values["metadata"] = json.dumps(metadata)
    return insert(connection, "whatsapp_messages", **values)


def queue_message(
    connection: Connection,
    traveller: Traveller,
    *,
    content: str = "Your trip starts tomorrow",
    **columns: Any,
) -> uuid.UUID:
    """An outbound pending message with only the seed's columns unless ``columns`` add more."""
    columns.setdefault("status", None)
    return make_outbound(connection, traveller, content=content, **columns)


def make_trip(
    connection: Connection,
    *,
    user_id: uuid.UUID,
    start: date | None = None,
    end: date | None = None,
    budget: float | None = None,
    title: str = "Lisbon",
) -> uuid.UUID:
    trip_id: uuid.UUID = connection.exec_driver_sql(
        "INSERT INTO trips (user_id, title, start_date, end_date, budget_amount) "
        "VALUES (%(u)s, %(t)s, %(s)s, %(e)s, %(b)s) RETURNING id",
        {"u": user_id, "t": title, "s": start, "e": end, "b": budget},
    ).scalar_one()
    return trip_id


def insert(connection: Connection, table: str, **values: Any) -> uuid.UUID:
    columns = ", ".join(values)
    placeholders = ", ".join(f"%({key})s" for key in values)
    row_id: uuid.UUID = connection.exec_driver_sql(
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING id", values
    ).scalar_one()
    return row_id


def make_rule(
    connection: Connection,
    *,
    user_id: uuid.UUID,
    trigger_type: str,
    trigger_config: dict[str, Any] | str,
    action_type: str = "send_whatsapp",
    action_config: dict[str, Any] | str | None = None,
    active: bool = True,
    created_at: str = "2020-01-01T00:00:00Z",
) -> uuid.UUID:
    def as_json(value: object) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    return insert(
        connection,
        "automation_rules",
        user_id=user_id,
        name=f"{trigger_type} rule",
        trigger_type=trigger_type,
        trigger_config=as_json(trigger_config),
        action_type=action_type,
        action_config=as_json(action_config or {"template": "trip_reminder"}),
        is_active=active,
        created_at=created_at,
    )


def set_preferences(connection: Connection, *, user_id: uuid.UUID, **values: Any) -> None:
    insert(connection, "notification_preferences", user_id=user_id, **values)
