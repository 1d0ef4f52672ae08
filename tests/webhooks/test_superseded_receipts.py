"""A rerun re-queues a failed message as the same row: late receipts of its old send
(same callback data, old wamid) must not touch it; its new send's receipts still apply."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import make_outbound, make_traveller, message_row, rows, store_delivery
from tripcast.reruns import Selection, requeue_failed
from tripcast.webhooks.ingest import drain

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)
RERUN_AT = T0 + timedelta(hours=1)


def ingest(engine: Engine, *statuses: dict, now: datetime = RERUN_AT) -> None:
    with engine.begin() as connection:
        data = meta.payload(statuses=list(statuses))
        data["entry"][0]["id"] = uuid.uuid4().hex  # identical bodies would be one delivery
        store_delivery(connection, data)
    drain(engine, now=now)


def failed_then_rerun(engine: Engine) -> tuple[uuid.UUID, str]:
    """A message sent as ``old``, failed by its receipt, then re-queued by a rerun."""
    old = meta.new_wamid()
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        message = make_outbound(connection, traveller, wamid=old, sent_at=T0)
    error = [meta.meta_error(131000, "Something went wrong")]
    ingest(engine, meta.status(old, "failed", T0 + S, callback=str(message), errors=error))
    assert message_row(engine, message)["status"] == "failed"
    report = requeue_failed(engine, Selection(error_codes=(131000,)), now=RERUN_AT)
    assert report.requeued == 1
    row = message_row(engine, message)
    assert (row["status"], row["external_id"]) == ("pending", None)
    return message, old


def kept(engine: Engine) -> list[dict]:
    return rows(
        engine,
        "SELECT wamid, status, state, reason FROM webhook_unmatched_statuses ORDER BY status",
    )


def test_late_receipts_of_the_superseded_send_leave_the_requeued_row_alone(
    engine: Engine,
) -> None:
    message, old = failed_then_rerun(engine)
    before = message_row(engine, message)

    error = [meta.meta_error(131000, "Something went wrong")]
    ingest(
        engine,
        meta.status(old, "failed", T0 + S, callback=str(message), errors=error),  # duplicate
        meta.status(old, "read", T0 + 2 * S, callback=str(message)),  # out of order
    )

    assert message_row(engine, message) == before  # still pending, no wamid, no failure
    given_up = kept(engine)
    assert [(k["wamid"], k["status"], k["state"]) for k in given_up] == [
        (old, "failed", "given_up"),
        (old, "read", "given_up"),
    ]
    assert all(k["reason"].startswith(f"superseded send: message {message}") for k in given_up)
    # given up for good: a later drain does not retry them
    assert drain(engine, now=RERUN_AT + timedelta(hours=2)).backlog_retried == 0


def test_the_new_sends_receipts_still_apply_and_old_ones_keep_off(engine: Engine) -> None:
    message, old = failed_then_rerun(engine)
    new = meta.new_wamid()
    with engine.begin() as connection:  # the re-send is in doubt: only its receipts tell
        connection.exec_driver_sql(
            "UPDATE whatsapp_messages SET send_started_at = %(at)s WHERE id = %(id)s",
            {"at": RERUN_AT, "id": message},
        )
    later = RERUN_AT + S
    ingest(engine, meta.status(new, "sent", later, callback=str(message)))
    row = message_row(engine, message)
    assert (row["status"], row["external_id"], row["sent_at"]) == ("sent", new, later)

    error = [meta.meta_error(131026)]
    ingest(engine, meta.status(old, "failed", T0 + S, callback=str(message), errors=error))
    ingest(engine, meta.status(new, "delivered", later + S, callback=str(message)))

    row = message_row(engine, message)
    assert (row["status"], row["external_id"], row["failed_reason"]) == ("delivered", new, None)
    [late] = kept(engine)
    assert (late["wamid"], late["state"]) == (old, "given_up")
    assert late["reason"].startswith("superseded send")
