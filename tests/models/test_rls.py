"""Row-level security as Supabase applies it: requests run as role ``authenticated`` (or
``anon``) with the JWT claims in ``request.jwt.claims``; tripcast runs as the owner."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tests.support.world import insert, make_account, make_trip, make_user
from tripcast.models import SEED_TABLES


@dataclass
class Traveller:
    user: uuid.UUID
    account: uuid.UUID


def seed_traveller(connection: Connection) -> Traveller:
    user = make_user(connection)
    account = make_account(connection, user_id=user)
    trip = make_trip(connection, user_id=user)
    message = insert(
        connection,
        "whatsapp_messages",
        user_id=user,
        whatsapp_account_id=account,
        trip_id=trip,
        direction="outbound",
        message_type="text",
        content="hi",
    )
    insert(connection, "notification_preferences", user_id=user)
    rule = insert(
        connection,
        "automation_rules",
        user_id=user,
        name="r",
        trigger_type="schedule",
        trigger_config='{"cron": "0 9 * * *"}',
        action_type="send_whatsapp",
        action_config='{"template": "x"}',
    )
    insert(
        connection,
        "scheduled_jobs",
        user_id=user,
        automation_rule_id=rule,
        job_type="send_whatsapp",
        scheduled_for="2026-01-01T09:00Z",
    )
    insert(
        connection,
        "delivery_logs",
        user_id=user,
        whatsapp_message_id=message,
        channel="whatsapp",
        recipient="x",
        status="sent",
    )
    return Traveller(user=user, account=account)


@pytest.fixture
def travellers(engine: Engine) -> tuple[Traveller, Traveller]:
    with engine.begin() as connection:
        return seed_traveller(connection), seed_traveller(connection)


@contextmanager
def as_role(
    engine: Engine, role: str, *, sub: uuid.UUID | None = None, legacy_claim: bool = False
) -> Iterator[Connection]:
    """A transaction running as ``role`` with claims set the way PostgREST sets them."""
    with engine.connect() as connection, connection.begin() as transaction:
        connection.exec_driver_sql(f"SET LOCAL ROLE {role}")
        if sub is not None and legacy_claim:
            connection.exec_driver_sql(
                "SELECT set_config('request.jwt.claim.sub', %(s)s, true)", {"s": str(sub)}
            )
        elif sub is not None:
            claims = json.dumps({"sub": str(sub), "role": role})
            connection.exec_driver_sql(
                "SELECT set_config('request.jwt.claims', %(c)s, true)", {"c": claims}
            )
        yield connection
        transaction.rollback()


def visible_users(connection: Connection, table: str) -> set[uuid.UUID]:
    return {row[0] for row in connection.exec_driver_sql(f"SELECT user_id FROM {table}")}


@pytest.mark.parametrize("table", SEED_TABLES)
@pytest.mark.parametrize("legacy_claim", [False, True])
def test_user_sees_only_own_rows(
    engine: Engine, travellers: tuple[Traveller, Traveller], table: str, legacy_claim: bool
) -> None:
    me, _ = travellers
    with as_role(engine, "authenticated", sub=me.user, legacy_claim=legacy_claim) as connection:
        assert visible_users(connection, table) == {me.user}


@pytest.mark.parametrize("table", SEED_TABLES)
def test_anon_sees_nothing(
    engine: Engine, travellers: tuple[Traveller, Traveller], table: str
) -> None:
    with as_role(engine, "anon") as connection:
        assert visible_users(connection, table) == set()


@pytest.mark.parametrize("role", ["service_role", "postgres_owner"])
@pytest.mark.parametrize("table", SEED_TABLES)
def test_service_connection_sees_all(
    engine: Engine, travellers: tuple[Traveller, Traveller], table: str, role: str
) -> None:
    expected = {traveller.user for traveller in travellers}
    if role == "postgres_owner":
        with engine.connect() as connection:
            assert visible_users(connection, table) == expected
        return
    with as_role(engine, role) as connection:
        assert visible_users(connection, table) == expected


UPDATABLE = {
    "whatsapp_accounts": 'metadata = \'{"lang": "pt"}\'',
    "notification_preferences": "marketing = true",
    "automation_rules": "is_active = false",
}


@pytest.mark.parametrize("table", UPDATABLE)
def test_user_updates_only_own_rows(
    engine: Engine, travellers: tuple[Traveller, Traveller], table: str
) -> None:
    me, other = travellers
    with as_role(engine, "authenticated", sub=me.user) as connection:
        mine = connection.exec_driver_sql(
            f"UPDATE {table} SET {UPDATABLE[table]} WHERE user_id = %(u)s", {"u": me.user}
        )
        theirs = connection.exec_driver_sql(
            f"UPDATE {table} SET {UPDATABLE[table]} WHERE user_id = %(u)s", {"u": other.user}
        )
        assert (mine.rowcount, theirs.rowcount) == (1, 0)


OWN_ROW: dict[str, dict[str, object]] = {
    "whatsapp_messages": {"direction": "inbound", "message_type": "text", "content": "x"},
    "scheduled_jobs": {"job_type": "x", "scheduled_for": "2026-01-01T09:00Z"},
    "delivery_logs": {"channel": "whatsapp", "recipient": "x", "status": "sent"},
}


@pytest.mark.parametrize("table", OWN_ROW)
def test_read_only_tables_reject_user_writes(
    engine: Engine, travellers: tuple[Traveller, Traveller], table: str
) -> None:
    me, _ = travellers
    with as_role(engine, "authenticated", sub=me.user) as connection:
        assert connection.exec_driver_sql(f"UPDATE {table} SET user_id = user_id").rowcount == 0
        assert connection.exec_driver_sql(f"DELETE FROM {table}").rowcount == 0
    with (
        as_role(engine, "authenticated", sub=me.user) as connection,
        pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
    ):
        insert(connection, table, **OWN_ROW[table], user_id=me.user)


def test_user_manages_own_rules_but_not_for_others(
    engine: Engine, travellers: tuple[Traveller, Traveller]
) -> None:
    me, other = travellers
    rule = {
        "name": "mine",
        "trigger_type": "trip_start",
        "trigger_config": '{"days_before": 1}',
        "action_type": "send_whatsapp",
        "action_config": '{"template": "trip_reminder"}',
    }
    with as_role(engine, "authenticated", sub=me.user) as connection:
        insert(connection, "automation_rules", user_id=me.user, **rule)
        assert (
            connection.exec_driver_sql(
                "DELETE FROM automation_rules WHERE user_id = %(u)s", {"u": me.user}
            ).rowcount
            == 2
        )
    with (
        as_role(engine, "authenticated", sub=me.user) as connection,
        pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
    ):
        insert(connection, "automation_rules", user_id=other.user, **rule)


@pytest.mark.parametrize(
    "assignment",
    [
        "is_verified = not is_verified",
        "verification_code = '123456'",
        "verification_expires_at = now() + interval '1 day'",
    ],
)
def test_user_cannot_self_verify(
    engine: Engine, travellers: tuple[Traveller, Traveller], assignment: str
) -> None:
    me, _ = travellers
    with (
        as_role(engine, "authenticated", sub=me.user) as connection,
        pytest.raises(sa.exc.ProgrammingError, match="set by phone verification only"),
    ):
        connection.exec_driver_sql(f"UPDATE whatsapp_accounts SET {assignment}")


def test_owner_may_set_verification(
    engine: Engine, travellers: tuple[Traveller, Traveller]
) -> None:
    me, _ = travellers
    with engine.begin() as connection:
        updated = connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET is_verified = true, verification_code = 'h' "
            "WHERE user_id = %(u)s",
            {"u": me.user},
        )
        assert updated.rowcount == 1


def test_user_cannot_move_a_row_to_someone_else(
    engine: Engine, travellers: tuple[Traveller, Traveller]
) -> None:
    me, other = travellers
    with (
        as_role(engine, "authenticated", sub=me.user) as connection,
        pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
    ):
        connection.exec_driver_sql(
            "UPDATE notification_preferences SET user_id = %(o)s WHERE user_id = %(u)s",
            {"o": other.user, "u": me.user},
        )
