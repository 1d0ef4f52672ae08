"""Time to send on a real database: claim order by class, expiry defaults and the expiry pass."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import logs_of, make_traveller, message, queue_message
from tests.dispatch.conftest import NOW
from tripcast.dispatch import store

LEASE = timedelta(seconds=60)


def claim(engine: Engine, *, limit: int, now=NOW) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        _expired, rows = store.expire_and_claim(
            connection, now=now, owner="a", lease=LEASE, limit=limit
        )
    return [row.id for row in rows]


def queue_marketing_backlog(engine: Engine, n: int) -> None:
    """``n`` pending marketing rows as an application would write them (seed columns)."""
    with engine.begin() as connection:
        who = make_traveller(connection, marketing=True)
        connection.exec_driver_sql(
            "INSERT INTO whatsapp_messages (user_id, whatsapp_account_id, direction, "
            "message_type, content, metadata, created_at) "
            "SELECT %(u)s, %(a)s, 'outbound', 'text', 'sale', "
            '\'{"category": "marketing"}\'::jsonb, %(at)s - make_interval(secs => g) '
            "FROM generate_series(1, %(n)s) AS g",
            {"u": who.user_id, "a": who.account_id, "n": n, "at": NOW},
        )


def test_a_utility_message_behind_thousands_of_marketing_rows_is_in_the_first_batch(
    engine: Engine,
) -> None:
    queue_marketing_backlog(engine, 5000)
    with engine.begin() as connection:
        who = make_traveller(connection)
        gate_change = queue_message(connection, who, content="Gate B12")  # no category
        code = queue_message(connection, who, metadata={"category": "authentication"})
        service = queue_message(connection, who, metadata={"category": "service"})
    assert claim(engine, limit=1) == [code]
    assert claim(engine, limit=1) == [gate_change]
    second = claim(engine, limit=10)
    assert service in second
    assert len(second) == 10  # marketing fills the rest: it moves while others are sparse


def test_oldest_first_within_a_class(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        later = queue_message(connection, who, next_attempt_at=NOW - timedelta(minutes=1))
        earlier = queue_message(connection, who, next_attempt_at=NOW - timedelta(minutes=5))
        unscheduled = queue_message(connection, who)
        not_yet = queue_message(connection, who, next_attempt_at=NOW + timedelta(seconds=20))
    assert claim(engine, limit=1) == [unscheduled]
    assert claim(engine, limit=1) == [earlier]
    assert claim(engine, limit=1) == [later]
    assert claim(engine, limit=10) == []
    assert claim(engine, limit=10, now=NOW + timedelta(seconds=30)) == [not_yet]


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"category": "authentication"}, timedelta(minutes=10)),
        ({"category": "marketing"}, timedelta(hours=24)),
        ({"category": "utility"}, None),
        (None, None),
    ],
)
def test_an_application_insert_gets_its_category_default_expiry(
    engine: Engine, metadata: dict[str, str] | None, expected: timedelta | None
) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        message_id = queue_message(connection, who, metadata=metadata)
    row = message(engine, message_id)
    if expected is None:
        assert row["expires_at"] is None
    else:
        assert row["expires_at"] - row["created_at"] == expected


def test_a_writers_own_expiry_is_kept(engine: Engine) -> None:
    at = NOW + timedelta(minutes=3)
    with engine.begin() as connection:
        who = make_traveller(connection)
        message_id = queue_message(
            connection, who, metadata={"category": "authentication"}, expires_at=at
        )
    assert message(engine, message_id)["expires_at"] == at


def test_an_expired_message_is_failed_with_a_log_and_never_claimed(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        stale = queue_message(connection, who, expires_at=NOW - timedelta(seconds=1))
        alive = queue_message(connection, who, expires_at=NOW + timedelta(minutes=1))
    assert claim(engine, limit=10) == [alive]
    row = message(engine, stale)
    assert row["status"] == "failed"
    assert row["failed_reason"].startswith("expired")
    assert row["lease_owner"] is None
    (log,) = logs_of(engine, stale)
    assert (log["status"], log["error_message"]) == ("failed", row["failed_reason"])


def test_the_send_mark_refuses_a_message_that_expired_after_its_claim(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        soon = queue_message(connection, who, expires_at=NOW + timedelta(seconds=1))
    assert claim(engine, limit=10) == [soon]
    with engine.begin() as connection:
        started = store.mark_send_started(
            connection, [soon], now=NOW + timedelta(seconds=2), owner="a"
        )
    assert started == set()
    assert message(engine, soon)["send_started_at"] is None


def test_an_in_doubt_message_is_not_failed_as_expired(engine: Engine) -> None:
    # Its send may have reached Meta: only its receipt (or the in-doubt grace) decides.
    with engine.begin() as connection:
        who = make_traveller(connection)
        sent_maybe = queue_message(connection, who, expires_at=NOW + timedelta(seconds=1))
    assert claim(engine, limit=10) == [sent_maybe]
    with engine.begin() as connection:
        store.mark_send_started(connection, [sent_maybe], now=NOW, owner="a")
    later = NOW + LEASE + timedelta(seconds=1)
    assert claim(engine, limit=10, now=later) == []
    assert message(engine, sent_maybe)["status"] == "pending"
