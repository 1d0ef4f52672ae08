"""What a traveller's own session may not do (migration 0009): open their own 24-hour
window, or learn about other travellers' messages from realtime notifications."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.models.test_rls import Traveller, as_role, seed_traveller
from tripcast.models import migrate
from tripcast.webhooks.deliveries import psycopg_conninfo

CHANNEL = "tripcast_whatsapp_messages"
ANONYMOUS_KEYS = {"op", "id", "direction", "status", "category"}


@pytest.fixture
def travellers(engine: Engine) -> tuple[Traveller, Traveller]:
    with engine.begin() as connection:
        return seed_traveller(connection), seed_traveller(connection)


@pytest.mark.parametrize(
    "assignment",
    [
        "last_inbound_at = '2036-01-01T00:00Z'",
        "last_inbound_at = now()",
        "last_inbound_at = coalesce(last_inbound_at, now()) + interval '1 hour'",
    ],
)
def test_a_traveller_cannot_open_their_own_24_hour_window(
    engine: Engine, travellers: tuple[Traveller, Traveller], assignment: str
) -> None:
    me, _ = travellers
    with (
        as_role(engine, "authenticated", sub=me.user) as connection,
        pytest.raises(sa.exc.ProgrammingError, match="inbound WhatsApp messages only"),
    ):
        connection.exec_driver_sql(f"UPDATE whatsapp_accounts SET {assignment}")


def test_a_traveller_still_manages_what_the_seed_lets_them(
    engine: Engine, travellers: tuple[Traveller, Traveller]
) -> None:
    me, _ = travellers
    with as_role(engine, "authenticated", sub=me.user) as connection:
        changed = connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET opt_in_status = 'opted_in', opted_in_at = now(), "
            'metadata = \'{"locale": "pt-PT"}\', last_inbound_at = last_inbound_at'
        )
        assert changed.rowcount == 1


def test_tripcast_itself_moves_the_window(
    engine: Engine, travellers: tuple[Traveller, Traveller]
) -> None:
    me, _ = travellers
    with engine.begin() as connection:
        changed = connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET last_inbound_at = now() WHERE user_id = %(u)s",
            {"u": me.user},
        )
        assert changed.rowcount == 1


@contextmanager
def listening_as(engine: Engine, role: str) -> Iterator[psycopg.Connection]:
    conninfo = psycopg_conninfo(engine.url.render_as_string(hide_password=False))
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute(f"SET ROLE {role}")
        listener.execute(f"LISTEN {CHANNEL}")
        yield listener


def payloads(listener: psycopg.Connection, count: int) -> list[str]:
    received = [n.payload for n in listener.notifies(timeout=5, stop_after=count)]
    assert len(received) == count, f"expected {count} notifications, got {received}"
    return received


def update_message(engine: Engine, traveller: Traveller, **changes: Any) -> uuid.UUID:
    with engine.begin() as connection:
        return connection.exec_driver_sql(
            "UPDATE whatsapp_messages SET status = 'sent', external_id = %(wamid)s, "
            "failed_reason = 'Boa viagem to Lisbon', metadata = %(metadata)s::jsonb "
            "WHERE user_id = %(u)s RETURNING id",
            {"u": traveller.user, "wamid": f"wamid.{uuid.uuid4().hex}", **changes},
        ).scalar_one()


@pytest.mark.parametrize("role", ["authenticated", "anon"])
def test_a_notification_identifies_no_traveller(
    engine: Engine, travellers: tuple[Traveller, Traveller], role: str
) -> None:
    me, other = travellers
    with listening_as(engine, role) as listener:
        # The same message twice: a verification code message, then a plain one.
        coded = update_message(engine, other, metadata='{"category": "authentication"}')
        plain = update_message(engine, other, metadata="{}")
        first, second = payloads(listener, 2)

    assert json.loads(first)["category"] == "authentication"
    assert set(json.loads(first)) <= ANONYMOUS_KEYS
    assert json.loads(second) == {"op": "UPDATE", "id": str(plain), "direction": "outbound",
                                  "status": "sent"}  # fmt: skip
    with sa.create_engine(engine.url).connect() as owner:
        row = owner.exec_driver_sql(
            "SELECT user_id, whatsapp_account_id, trip_id, external_id FROM whatsapp_messages "
            "WHERE id = %(id)s",
            {"id": coded},
        ).one()
    for identifying in (*row, "Lisbon"):
        assert str(identifying) not in first + second
    # The reader fetches the row by id under its own row-level security.
    with as_role(engine, "authenticated", sub=me.user) as connection:
        query = "SELECT count(*) FROM whatsapp_messages WHERE id = %(id)s"
        assert connection.exec_driver_sql(query, {"id": plain}).scalar_one() == 0
    with as_role(engine, "authenticated", sub=other.user) as connection:
        assert connection.exec_driver_sql(query, {"id": plain}).scalar_one() == 1


def test_downgrade_restores_the_old_payload_and_guard(
    engine: Engine, travellers: tuple[Traveller, Traveller]
) -> None:
    me, _ = travellers
    migrate.downgrade(engine, "0007")
    try:
        with listening_as(engine, "authenticated") as listener:
            update_message(engine, me, metadata="{}")
            (payload,) = payloads(listener, 1)
        assert json.loads(payload)["user_id"] == str(me.user)
        with as_role(engine, "authenticated", sub=me.user) as connection:
            connection.exec_driver_sql("UPDATE whatsapp_accounts SET last_inbound_at = now()")
    finally:
        migrate.upgrade(engine)
    with engine.connect() as connection:
        assert migrate.schema_diff(connection) == []
