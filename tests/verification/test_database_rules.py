"""What migration 0007 enforces in the database, whoever connects: travellers cannot
touch verification state or their number, nor read code messages; downgrade undoes it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tests.support.world import insert, make_account, make_user
from tests.verification.support import account_of
from tripcast.models import migrate
from tripcast.verification import start_verification

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@contextmanager
def as_traveller(engine: Engine, user: uuid.UUID) -> Iterator[Connection]:
    """A request as PostgREST runs it: role ``authenticated`` with the user's JWT claims."""
    with engine.connect() as connection, connection.begin() as transaction:
        connection.exec_driver_sql("SET LOCAL ROLE authenticated")
        claims = json.dumps({"sub": str(user), "role": "authenticated"})
        connection.exec_driver_sql(
            "SELECT set_config('request.jwt.claims', %(c)s, true)", {"c": claims}
        )
        yield connection
        transaction.rollback()


@pytest.mark.parametrize(
    "assignment",
    [
        "verification_attempts = 0",
        "verification_sends = NULL",
        "verified_at = now()",
        "phone_number = '351912345678'",
        "country_code = 'PT'",
    ],
)
def test_traveller_cannot_reset_verification_state_or_move_number(
    engine: Engine, assignment: str
) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_account(connection, user_id=user, verified=False)
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET verification_attempts = 4, "
            "verification_sends = ARRAY[now()]"
        )
    with (
        as_traveller(engine, user) as connection,
        pytest.raises(sa.exc.ProgrammingError, match="set by phone verification only"),
    ):
        connection.exec_driver_sql(f"UPDATE whatsapp_accounts SET {assignment}")


def test_traveller_still_updates_the_rest_of_their_account(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_account(connection, user_id=user)
    with as_traveller(engine, user) as connection:
        updated = connection.exec_driver_sql(
            'UPDATE whatsapp_accounts SET metadata = \'{"lang": "pt"}\''
        )
        assert updated.rowcount == 1


def test_traveller_cannot_read_their_code_messages(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
    sent = start_verification(engine, user, "+351 912 345 678", now=NOW)
    with engine.begin() as connection:
        reminder = insert(
            connection,
            "whatsapp_messages",
            user_id=user,
            whatsapp_account_id=sent.account_id,
            direction="outbound",
            message_type="text",
            content="Your trip starts tomorrow",
        )
    with as_traveller(engine, user) as connection:
        visible = {row[0] for row in connection.exec_driver_sql("SELECT id FROM whatsapp_messages")}
    assert visible == {reminder}
    with engine.connect() as connection:
        owner_sees = connection.exec_driver_sql("SELECT count(*) FROM whatsapp_messages").scalar()
    assert owner_sees == 2


def test_downgrade_to_0006_restores_the_original_guard(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_account(connection, user_id=user)
    migrate.downgrade(engine, "0006")
    assert "verification_attempts" not in account_of(engine, user)
    with as_traveller(engine, user) as connection:
        connection.exec_driver_sql("UPDATE whatsapp_accounts SET phone_number = '351912345678'")
    with (
        as_traveller(engine, user) as connection,
        pytest.raises(
            sa.exc.ProgrammingError,
            match="is_verified, verification_code and verification_expires_at are set by",
        ),
    ):
        connection.exec_driver_sql("UPDATE whatsapp_accounts SET is_verified = false")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert migrate.schema_diff(connection) == []
