"""The ingest itself: concurrent ingesters, bad deliveries isolated and recorded."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Connection, Engine

from tests.webhooks import meta
from tests.webhooks.builders import (
    make_outbound,
    make_traveller,
    rows,
    scalar,
    store_delivery,
)
from tripcast.webhooks.ingest import IngestPolicy, IngestReport, drain, ingest_once, prune_applied

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def test_concurrent_ingesters_apply_each_delivery_once(engine: Engine) -> None:
    rng = random.Random(7)
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        wamids = [meta.new_wamid() for _ in range(12)]
        for wamid in wamids:
            make_outbound(connection, traveller, wamid=wamid)
        for _ in range(40):  # every delivery touches many of the same messages
            picked = rng.sample(wamids, 8)
            statuses = [meta.status(w, rng.choice(["delivered", "read"]), T0 + S) for w in picked]
            store_delivery(connection, meta.payload(statuses=statuses))
    reports: list[IngestReport] = []
    errors: list[BaseException] = []

    def ingester() -> None:
        try:
            reports.append(drain(engine, batch_size=3))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=ingester) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(r.deliveries for r in reports) == 40
    assert scalar(engine, "SELECT count(*) FROM webhook_deliveries WHERE status = 'applied'") == 40
    logs = rows(
        engine,
        "SELECT whatsapp_message_id, count(*) AS n FROM delivery_logs "
        "GROUP BY 1 HAVING count(*) > 1",
    )
    assert logs == []  # one delivered log per message, however the batches interleaved
    assert scalar(engine, "SELECT count(*) FROM delivery_logs") == 12
    assert scalar(engine, "SELECT count(DISTINCT status) FROM whatsapp_messages") == 1


def poison(engine: Engine) -> None:
    """A database-side failure on one message's content, as a bad row would cause."""
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF new.content = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; "
            "RETURN new; END $$; "
            "CREATE TRIGGER test_poison BEFORE INSERT ON whatsapp_messages "
            "FOR EACH ROW EXECUTE FUNCTION test_poison()"
        )


def said(connection: Connection, phone: str, text: str) -> uuid.UUID:
    return store_delivery(connection, meta.payload(messages=[meta.text_message(phone, text, T0)]))


def delivery_state(engine: Engine, delivery_id: uuid.UUID) -> tuple:
    [row] = rows(
        engine,
        "SELECT status, attempts, next_attempt_at, processed_at, last_error "
        "FROM webhook_deliveries WHERE id = %(id)s",
        id=delivery_id,
    )
    return tuple(row.values())


def test_a_delivery_that_fails_to_apply_is_isolated_retried_then_rejected(engine: Engine) -> None:
    poison(engine)
    with engine.begin() as connection:
        ana = make_traveller(connection)
        good = [said(connection, ana.phone, text) for text in ("one", "two")]
        bad = said(connection, ana.phone, "poison")
    policy = IngestPolicy(max_attempts=2)
    report = ingest_once(engine, now=T0, policy=policy)
    assert (report.deliveries, report.failed, report.inbound_stored) == (3, 1, 2)
    contents = rows(engine, "SELECT content FROM whatsapp_messages ORDER BY content")
    assert [row["content"] for row in contents] == ["one", "two"]
    # kept with its reason, due again after a backoff
    assert delivery_state(engine, bad) == ("received", 1, T0 + 2 * S, None, "poisoned row")
    assert ingest_once(engine, now=T0 + S, policy=policy).idle  # backing off
    ingest_once(engine, now=T0 + 2 * S, policy=policy)
    assert delivery_state(engine, bad)[:2] == ("rejected", 2)
    assert delivery_state(engine, bad)[3:] == (T0 + 2 * S, "poisoned row")
    assert ingest_once(engine, now=T0 + timedelta(days=1), policy=policy).idle
    applied = rows(engine, "SELECT id FROM webhook_deliveries WHERE status = 'applied'")
    assert sorted(row["id"] for row in applied) == sorted(good)


def test_a_malformed_stored_payload_is_rejected_with_its_reason(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        broken = store_delivery(
            connection, {"object": "whatsapp_business_account", "entry": [{"id": "1"}]}
        )
        fine = store_delivery(
            connection, meta.payload(messages=[meta.text_message(ana.phone, "hi", T0)])
        )
    report = drain(engine, now=T0)
    assert (report.rejected, report.inbound_stored) == (1, 1)
    found = {
        row["id"]: (row["status"], row["last_error"])
        for row in rows(engine, "SELECT id, status, last_error FROM webhook_deliveries")
    }
    assert found[fine] == ("applied", None)
    assert found[broken][0] == "rejected"
    assert "wrong shape at entry.0.changes" in found[broken][1]


def test_pruning_removes_only_applied_deliveries_older_than_asked(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        old, recent = said(connection, ana.phone, "old"), said(connection, ana.phone, "recent")
        rejected = store_delivery(connection, {"object": "x"})
        waiting = store_delivery(
            connection, meta.payload(statuses=[meta.status("wamid.?", "sent", T0)])
        )
    drain(engine, now=T0)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE webhook_deliveries SET processed_at = %(t)s WHERE id = ANY(%(ids)s)",
            {"t": T0 - timedelta(days=8), "ids": [old, rejected, waiting]},
        )
    assert prune_applied(engine, older_than=timedelta(days=7), now=T0, batch=1) == 2
    left = {row["id"] for row in rows(engine, "SELECT id FROM webhook_deliveries")}
    assert left == {recent, rejected}
    # what the pruned delivery left for retry keeps its payload
    assert scalar(engine, "SELECT count(*) FROM webhook_unmatched_statuses") == 1
    assert scalar(engine, "SELECT count(*) FROM whatsapp_messages") == 2
