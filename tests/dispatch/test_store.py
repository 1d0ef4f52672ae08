"""Dispatch's SQL on a real database: claims, leases, pacing, reconciliation, writes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import make_traveller, message, queue_message
from tests.dispatch.conftest import NOW
from tests.support.receipts import deliver_receipts, receipt, settle_by_receipt
from tripcast.dispatch import store
from tripcast.dispatch.outcomes import AttemptLog, Outcome

LEASE = timedelta(minutes=5)


def queue(engine: Engine, n: int, **columns: object) -> list[uuid.UUID]:
    with engine.begin() as connection:
        who = make_traveller(connection)
        return [queue_message(connection, who, **columns) for _ in range(n)]


def claim(engine: Engine, owner: str, *, limit: int = 100, now=NOW) -> set[uuid.UUID]:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        rows = store.claim_batch(connection, now=now, owner=owner, lease=LEASE, limit=limit)
    return {row.id for row in rows}


def mark(engine: Engine, ids: set[uuid.UUID], owner: str) -> set[uuid.UUID]:
    with engine.begin() as connection:
        return store.mark_send_started(connection, list(ids), now=NOW, owner=owner)


def test_concurrent_claims_never_share_a_message(engine: Engine) -> None:
    ids = queue(engine, 10)
    with engine.begin() as first:
        mine = {
            row.id for row in store.claim_batch(first, now=NOW, owner="a", lease=LEASE, limit=6)
        }
        # While the first claim's transaction is open, its rows are skipped, not waited on.
        theirs = claim(engine, "b", limit=6)
    assert len(mine) == 6
    assert len(theirs) == 4
    assert mine | theirs == set(ids)
    assert claim(engine, "c") == set()  # both leases still hold


def test_unscheduled_rows_come_first_then_due_rows_oldest_first(engine: Engine) -> None:
    (later,) = queue(engine, 1, next_attempt_at=NOW - timedelta(minutes=1))
    (earlier,) = queue(engine, 1, next_attempt_at=NOW - timedelta(minutes=5))
    (unscheduled,) = queue(engine, 1)
    assert claim(engine, "a", limit=1) == {unscheduled}
    assert claim(engine, "b", limit=1) == {earlier}
    assert claim(engine, "c", limit=1) == {later}


def test_expired_lease_is_reclaimed_only_if_no_send_had_started(engine: Engine) -> None:
    never_started, started = queue(engine, 2)
    assert claim(engine, "dead") == {never_started, started}
    assert mark(engine, {started}, "dead") == {started}
    after_lease = NOW + LEASE + timedelta(seconds=1)
    # The dead worker's unstarted message is safe to send again; the started one is in doubt.
    assert claim(engine, "alive", now=after_lease) == {never_started}


def test_mark_refuses_messages_whose_traveller_opted_out_since_the_claim(engine: Engine) -> None:
    ids = queue(engine, 2)
    claimed = claim(engine, "a")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET opt_in_status = 'opted_out' WHERE id = "
            "(SELECT whatsapp_account_id FROM whatsapp_messages WHERE id = %(id)s)",
            {"id": ids[0]},
        )
    assert claimed == set(ids)
    assert mark(engine, claimed, "a") == set()  # same traveller: both refused
    assert mark(engine, claimed, "someone-else") == set()


def test_the_claim_reads_the_partial_dispatch_index(engine: Engine) -> None:
    # A realistic mix: mostly history, pending rows mostly scheduled by tripcast and a
    # few inserted by the application without a time.
    with engine.begin() as connection:
        who = make_traveller(connection)
        connection.exec_driver_sql(
            "INSERT INTO whatsapp_messages (user_id, whatsapp_account_id, direction, "
            "message_type, content, status, next_attempt_at) "
            "SELECT %(u)s, %(a)s, 'outbound', 'text', 'x', "
            "CASE WHEN g %% 25 = 0 THEN 'pending' ELSE 'sent' END, "
            "CASE WHEN g %% 100 <> 0 THEN %(due)s::timestamptz END "
            "FROM generate_series(1, 5000) AS g",
            {"u": who.user_id, "a": who.account_id, "due": NOW - timedelta(minutes=1)},
        )
        connection.exec_driver_sql("ANALYZE whatsapp_messages")
        plan = "\n".join(
            row[0]
            for row in connection.exec_driver_sql(
                "EXPLAIN " + store.sql.CLAIM_DUE_MESSAGES,
                {"now": NOW, "limit": 10, "owner": "a", "lease_until": NOW + LEASE},
            )
        )
    # One ordered range scan per priority class, no sort.
    assert plan.count("Index Scan using idx_whatsapp_messages_dispatch_queue") == 4
    assert "Sort" not in plan
    assert "Seq Scan on whatsapp_messages" not in plan


def reserve(engine: Engine, span: float) -> float:
    with engine.begin() as connection:
        return store.reserve_slots(connection, phone_number_id="100", span=span)


def test_slot_reservations_follow_each_other_without_gaps_or_overlap(engine: Engine) -> None:
    assert reserve(engine, 5.0) == pytest.approx(0.0, abs=0.05)
    # The next block starts where the first ends (minus the little time that passed).
    assert reserve(engine, 5.0) == pytest.approx(5.0, abs=0.2)
    assert reserve(engine, 1.0) == pytest.approx(10.0, abs=0.2)
    with engine.begin() as connection:
        store.push_schedule(connection, phone_number_id="100", pause=30.0)
    assert reserve(engine, 1.0) == pytest.approx(30.0, abs=0.2)


def test_an_idle_schedule_gives_no_credit_for_the_past(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO send_pacing (phone_number_id, next_slot_at) "
            "VALUES ('100', now() - interval '1 hour')"
        )
    assert reserve(engine, 2.0) == pytest.approx(0.0, abs=0.05)
    assert reserve(engine, 2.0) == pytest.approx(2.0, abs=0.2)


def test_status_receipt_settles_a_pending_message_by_its_callback_data(engine: Engine) -> None:
    in_doubt, failed_later, stranger = queue(engine, 3)
    at = NOW + timedelta(seconds=3)
    assert settle_by_receipt(engine, in_doubt, "wamid.X", "sent", at)
    changed = deliver_receipts(
        engine,
        [
            receipt(failed_later, "wamid.Y", "sent", at),
            receipt(
                failed_later,
                "wamid.Y",
                "failed",
                at,
                error_code=131026,
                error_message="Undeliverable",
            ),
            receipt("not-our-id", "wamid.Z", "sent", at),
        ],
    )
    assert changed == {failed_later}
    row = message(engine, in_doubt)
    assert (row["status"], row["external_id"], row["sent_at"]) == ("sent", "wamid.X", at)
    row = message(engine, failed_later)
    assert (row["status"], row["error_code"]) == ("failed", 131026)
    assert row["failed_reason"] == "131026: Undeliverable"
    assert message(engine, stranger)["status"] == "pending"


def test_receipts_never_touch_messages_that_are_no_longer_pending(engine: Engine) -> None:
    (message_id,) = queue(engine, 1, status="read", external_id="wamid.R")
    assert not settle_by_receipt(engine, message_id, "wamid.R", "sent", NOW)
    assert message(engine, message_id)["status"] == "read"


def test_writing_a_batch_twice_writes_its_logs_once(engine: Engine) -> None:
    (message_id,) = queue(engine, 1)
    assert claim(engine, "a") == {message_id}
    with engine.connect() as connection:
        user_id = connection.exec_driver_sql(
            "SELECT user_id FROM whatsapp_messages WHERE id = %(id)s", {"id": message_id}
        ).scalar_one()
    outcome = Outcome(message_id, "sent", "sent", 0, external_id="wamid.W", sent_at=NOW)
    log = AttemptLog(user_id, message_id, "351912000001", "sent", {}, None, 1, None, NOW)
    for _ in range(2):  # as after a commit whose acknowledgement was lost
        with engine.begin() as connection:
            store.write_outcomes(connection, [outcome], [log], owner="a")
    with engine.connect() as connection:
        logs = connection.exec_driver_sql(
            "SELECT count(*) FROM delivery_logs WHERE whatsapp_message_id = %(id)s",
            {"id": message_id},
        ).scalar_one()
    assert logs == 1
    row = message(engine, message_id)
    assert (row["status"], row["external_id"], row["lease_owner"]) == ("sent", "wamid.W", None)


def test_travellers_cannot_touch_the_shared_schedule(engine: Engine) -> None:
    reserve(engine, 1.0)
    with engine.begin() as connection:
        # As Supabase's default privileges do for every new public table:
        connection.exec_driver_sql("GRANT ALL ON send_pacing TO authenticated")
        connection.exec_driver_sql("SET LOCAL ROLE authenticated")
        seen = connection.exec_driver_sql("SELECT count(*) FROM send_pacing").scalar_one()
        changed = connection.exec_driver_sql(
            "UPDATE send_pacing SET next_slot_at = 'infinity'"
        ).rowcount
    assert (seen, changed) == (0, 0)
