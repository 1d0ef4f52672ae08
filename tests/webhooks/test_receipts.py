"""Status receipts posted to the running receiver, then applied by the ingest."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import (
    make_outbound,
    make_traveller,
    message_row,
    rows,
    scalar,
    store_delivery,
)
from tests.webhooks.conftest import post
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def deliver(http: httpx.Client, receiver: BackgroundReceiver, *statuses: dict) -> None:
    answer = post(http, receiver.url, meta.payload(statuses=list(statuses)))
    assert answer.status_code == 200, answer.text


def logs(engine: Engine) -> list[dict]:
    return rows(
        engine,
        "SELECT whatsapp_message_id AS message, status, error_message, error_code, "
        "delivered_at, provider_response FROM delivery_logs ORDER BY created_at, status",
    )


def state(engine: Engine, message_id: uuid.UUID) -> tuple:
    row = message_row(engine, message_id)
    return tuple(row[k] for k in ("status", "sent_at", "delivered_at", "read_at", "failed_at"))


def test_each_kind_of_status_applies(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    wamids = {name: meta.new_wamid() for name in ("sent", "delivered", "read", "failed")}
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        ids = {name: make_outbound(connection, traveller, wamid=w) for name, w in wamids.items()}
    undeliverable = [meta.meta_error(131026, "Message undeliverable")]
    failure = meta.status(wamids["failed"], "failed", T0 + S, errors=undeliverable)
    deliver(
        http,
        receiver,
        meta.status(wamids["sent"], "sent", T0),
        meta.status(wamids["delivered"], "delivered", T0 + 2 * S),
        meta.status(wamids["read"], "delivered", T0 + 2 * S),
        meta.status(wamids["read"], "read", T0 + 3 * S),
        failure,
    )
    report = drain(engine)
    assert report.messages_updated == {"sent": 1, "delivered": 1, "read": 1, "failed": 1}
    assert state(engine, ids["sent"]) == ("sent", T0, None, None, None)
    assert state(engine, ids["delivered"]) == ("delivered", T0 + 2 * S, T0 + 2 * S, None, None)
    assert state(engine, ids["read"]) == ("read", T0 + 2 * S, T0 + 2 * S, T0 + 3 * S, None)
    assert state(engine, ids["failed"]) == ("failed", None, None, None, T0 + S)
    failed = message_row(engine, ids["failed"])
    reason = "131026: Message undeliverable"
    assert (failed["error_code"], failed["failed_reason"]) == (131026, reason)
    written = {(log["message"], log["status"]): log for log in logs(engine)}
    assert set(written) == {
        (ids["delivered"], "delivered"),
        (ids["read"], "delivered"),
        (ids["failed"], "failed"),
    }
    failed_log = written[(ids["failed"], "failed")]
    assert failed_log["provider_response"] == failure  # the status object as Meta sent it
    assert (failed_log["error_code"], failed_log["error_message"]) == (131026, reason)


def test_read_without_delivered_fills_delivered_at(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    wamid = meta.new_wamid()
    with engine.begin() as connection:
        message = make_outbound(connection, make_traveller(connection), wamid=wamid)
    deliver(http, receiver, meta.status(wamid, "read", T0 + 5 * S))
    drain(engine)
    row = message_row(engine, message)
    assert (row["status"], row["delivered_at"], row["read_at"]) == ("read", T0 + 5 * S, T0 + 5 * S)
    [log] = logs(engine)
    assert (log["status"], log["delivered_at"]) == ("delivered", T0 + 5 * S)


def test_late_duplicate_and_out_of_order_receipts_change_nothing(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    wamid = meta.new_wamid()
    with engine.begin() as connection:
        message = make_outbound(connection, make_traveller(connection), wamid=wamid)
    deliver(http, receiver, meta.status(wamid, "sent", T0), meta.status(wamid, "read", T0 + 9 * S))
    drain(engine)
    before = message_row(engine, message)
    updated_at = scalar(engine, "SELECT updated_at FROM whatsapp_messages")
    # each in its own delivery and batch: late delivered, sent again, read again, failed
    late = [
        meta.status(wamid, "delivered", T0 + 4 * S),
        meta.status(wamid, "sent", T0 + S),
        meta.status(wamid, "read", T0 + 9 * S, recipient="16505550000"),
        meta.status(wamid, "failed", T0 + 10 * S, errors=[meta.meta_error()]),
    ]
    for status in late:
        deliver(http, receiver, status)
        assert sum(drain(engine).messages_updated.values()) == 0
    assert message_row(engine, message) == before
    assert before["delivered_at"] == T0 + 9 * S  # filled by the read, never overwritten
    assert scalar(engine, "SELECT updated_at FROM whatsapp_messages") == updated_at
    assert [log["status"] for log in logs(engine)] == ["delivered"]


def test_failed_is_terminal(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    wamid = meta.new_wamid()
    with engine.begin() as connection:
        message = make_outbound(connection, make_traveller(connection), wamid=wamid)
    deliver(
        http,
        receiver,
        meta.status(wamid, "failed", T0, errors=[meta.meta_error(131047, "Re-engagement message")]),
    )
    drain(engine)
    deliver(
        http,
        receiver,
        meta.status(wamid, "delivered", T0 + S),
        meta.status(wamid, "read", T0 + 2 * S),
    )
    drain(engine)
    row = message_row(engine, message)
    assert (row["status"], row["delivered_at"], row["read_at"]) == ("failed", None, None)
    assert row["failed_reason"] == "131047: Re-engagement message"


def test_send_in_doubt_is_reconciled_from_callback_data(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        doubt = make_outbound(connection, traveller, status="pending", send_started_at=T0)
        failed_doubt = make_outbound(connection, traveller, status="pending", send_started_at=T0)
    wamid, other = meta.new_wamid(), meta.new_wamid()
    deliver(
        http,
        receiver,
        meta.status(wamid, "sent", T0 + S, callback=str(doubt)),
        meta.status(
            other, "failed", T0 + S, callback=str(failed_doubt), errors=[meta.meta_error()]
        ),
    )
    drain(engine)
    row = message_row(engine, doubt)
    assert (row["status"], row["external_id"], row["sent_at"]) == ("sent", wamid, T0 + S)
    row = message_row(engine, failed_doubt)
    assert (row["status"], row["external_id"], row["error_code"]) == ("failed", other, 131026)
    # later receipts carry the wamid and match directly
    deliver(http, receiver, meta.status(wamid, "delivered", T0 + 2 * S))
    drain(engine)
    assert message_row(engine, doubt)["status"] == "delivered"


def test_callback_naming_a_message_sent_as_another_wamid_is_given_up_with_reason(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    with engine.begin() as connection:
        message = make_outbound(connection, make_traveller(connection), wamid=meta.new_wamid())
    stray = meta.new_wamid()
    deliver(http, receiver, meta.status(stray, "delivered", T0, callback=str(message)))
    report = drain(engine)
    assert report.receipts_given_up == 1
    [kept] = rows(engine, "SELECT wamid, state, reason FROM webhook_unmatched_statuses")
    assert (kept["wamid"], kept["state"]) == (stray, "given_up")
    assert f"names message {message}, sent as another wamid" in kept["reason"]
    assert message_row(engine, message)["status"] == "sent"


def test_receipt_before_the_send_commits_is_kept_then_applied(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    wamid = meta.new_wamid()
    receipt = meta.status(wamid, "delivered", T0 + S)
    deliver(http, receiver, receipt)
    duplicate = meta.payload(statuses=[receipt])
    duplicate["entry"][0]["id"] = "2048"  # the same receipt in another delivery
    assert post(http, receiver.url, duplicate).status_code == 200
    now = datetime.now(UTC)
    report = drain(engine, now=now)
    assert (report.receipts_unmatched, report.receipts_given_up) == (2, 0)
    [kept] = rows(engine, "SELECT state, attempts, next_attempt_at FROM webhook_unmatched_statuses")
    assert (kept["state"], kept["attempts"]) == ("waiting", 1)
    assert kept["next_attempt_at"] > now
    with engine.begin() as connection:  # the send commits now
        message = make_outbound(connection, make_traveller(connection), wamid=wamid)
    # not yet due, but its wamid now exists: retried without waiting out the backoff
    report = drain(engine, now=now)
    assert report.backlog_applied == 1
    row = message_row(engine, message)
    assert (row["status"], row["delivered_at"]) == ("delivered", T0 + S)
    assert scalar(engine, "SELECT count(*) FROM webhook_unmatched_statuses") == 0
    assert [log["status"] for log in logs(engine)] == ["delivered"]


def test_unmatched_receipt_backs_off_then_is_given_up_with_reason(engine: Engine) -> None:
    wamid = meta.new_wamid()
    with engine.begin() as connection:
        store_delivery(
            connection, meta.payload(statuses=[meta.status(wamid, "read", T0, callback="x-1")])
        )
    now = T0 + timedelta(minutes=1)
    drain(engine, now=now)

    def kept() -> dict:
        [row] = rows(engine, "SELECT * FROM webhook_unmatched_statuses")
        return row

    assert kept()["next_attempt_at"] == now + 2 * S
    assert drain(engine, now=now + S).backlog_retried == 0  # not due yet
    drain(engine, now=now + 2 * S)
    assert (kept()["attempts"], kept()["next_attempt_at"]) == (2, now + 6 * S)  # then 4 s
    drain(engine, now=now + timedelta(hours=25))
    row = kept()
    assert (row["state"], row["attempts"], row["given_up_at"]) == (
        "given_up",
        3,
        now + timedelta(hours=25),
    )
    assert row["reason"].startswith("gave up after 3 attempts")
    assert wamid in row["reason"] and "x-1" in row["reason"]
    assert drain(engine, now=now + timedelta(hours=30)).backlog_retried == 0  # for good
