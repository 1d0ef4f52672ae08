"""Sends in doubt settled by the webhook ingest: each attempt ends with exactly one log
carrying its final word, whichever of the ingest and the dispatcher gets there first.

The logs of one message: per attempt, the dispatcher's POST log (``sent``, or ``failed``
with ``in_doubt`` when the answer was lost) and, for an attempt a status receipt settled,
its verdict (``sent`` or ``failed``, source ``status webhook``); then, without an
attempt, the message's own ``delivered`` log once it is delivered, as for every send.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import logs_of, message
from tests.dispatch.conftest import NOW, Clock
from tests.dispatch.mock_api import URL, dispatch, queued, traveller
from tests.webhooks import meta
from tests.webhooks.builders import store_delivery
from tripcast.dispatch import store
from tripcast.dispatch.outcomes import AttemptLog, Outcome
from tripcast.webhooks.ingest import drain

S = timedelta(seconds=1)


def ingest(engine: Engine, *statuses: dict[str, Any]) -> None:
    """Meta's status webhooks, stored and applied as the receiver and the ingest do."""
    with engine.begin() as connection:
        data = meta.payload(statuses=list(statuses))
        data["entry"][0]["id"] = uuid.uuid4().hex
        store_delivery(connection, data)
    drain(engine, now=NOW)


def story(engine: Engine, message_id: uuid.UUID) -> list[tuple[int | None, str, str]]:
    """(attempt, status, by) per log, in a stable order; by: the dispatcher's ``post``,
    the attempt's ``verdict`` from a receipt, or ``message`` for a log of no attempt."""
    out = []
    for log in logs_of(engine, message_id):
        response = log["provider_response"] or {}
        by = "verdict" if response.get("source") == "status webhook" else "post"
        out.append((log["attempt"], log["status"], "message" if log["attempt"] is None else by))
    return sorted(out, key=lambda item: (item[0] is None, item[0] or 0, item[2], item[1]))


def check_one_final_word_per_attempt(engine: Engine, message_id: uuid.UUID) -> None:
    """Attempts 1..k each logged by its POST or its verdict, at most one verdict each,
    and at most one delivery log for the message."""
    logs = story(engine, message_id)
    attempts = sorted({attempt for attempt, _, _ in logs if attempt is not None})
    assert attempts == list(range(1, len(attempts) + 1))
    for attempt in attempts:
        verdicts = [log for log in logs if log[0] == attempt and log[2] == "verdict"]
        assert len(verdicts) <= 1, logs
    assert len([log for log in logs if log[2] == "message"]) <= 1, logs


@pytest.mark.anyio
async def test_a_send_left_in_doubt_gets_its_sent_log_when_the_ingest_settles_it(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_exception(httpx.RemoteProtocolError("dropped"), url=URL)
    message_id = queued(engine, traveller(engine))
    await dispatch(engine, clock)  # in doubt; the dispatcher logged its POST and let go
    row = message(engine, message_id)
    assert (row["status"], row["lease_owner"], row["send_started_at"]) == ("pending", None, NOW)
    wamid = meta.new_wamid()

    ingest(engine, meta.status(wamid, "sent", NOW + S, callback=str(message_id)))
    ingest(engine, meta.status(wamid, "delivered", NOW + 2 * S, callback=str(message_id)))
    ingest(engine, meta.status(wamid, "delivered", NOW + 2 * S, callback=str(message_id)))

    row = message(engine, message_id)
    assert (row["status"], row["external_id"]) == ("delivered", wamid)
    assert story(engine, message_id) == [
        (1, "failed", "post"),
        (1, "sent", "verdict"),
        (None, "delivered", "message"),
    ]
    sent = next(log for log in logs_of(engine, message_id) if log["status"] == "sent")
    assert (sent["created_at"], sent["provider_response"]["id"]) == (NOW + S, wamid)
    check_one_final_word_per_attempt(engine, message_id)
    clock.advance(hours=1)
    assert (await dispatch(engine, clock)).claimed == 0  # settled: never re-sent
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.anyio
async def test_a_failed_receipt_is_the_verdict_of_the_attempt_it_settles(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("no answer"), url=URL)
    message_id = queued(engine, traveller(engine))
    await dispatch(engine, clock)
    wamid, error = meta.new_wamid(), [meta.meta_error(131026, "Message undeliverable")]

    ingest(engine, meta.status(wamid, "failed", NOW + S, callback=str(message_id), errors=error))

    row = message(engine, message_id)
    assert (row["status"], row["failed_reason"]) == ("failed", "131026: Message undeliverable")
    assert story(engine, message_id) == [(1, "failed", "post"), (1, "failed", "verdict")]
    verdict = logs_of(engine, message_id)[-1]
    assert (verdict["error_code"], verdict["error_message"]) == (
        131026,
        "131026: Message undeliverable",
    )


def test_a_dead_dispatchers_send_settled_by_the_ingest_is_logged_once_on_release(
    engine: Engine,
) -> None:
    message_id = queued(engine, traveller(engine))
    with engine.begin() as connection:  # a worker claims, marks, POSTs, and dies
        store.claim_batch(connection, now=NOW, owner="gone", lease=timedelta(minutes=5), limit=1)
        store.mark_send_started(connection, [message_id], now=NOW, owner="gone")
    wamid = meta.new_wamid()
    ingest(engine, meta.status(wamid, "sent", NOW + S, callback=str(message_id)))
    ingest(engine, meta.status(wamid, "read", NOW + 3 * S, callback=str(message_id)))
    assert story(engine, message_id) == [(None, "delivered", "message")]  # lease still runs

    with engine.begin() as connection:  # the next dispatch run, once the lease ran out
        released = store.release_orphaned_leases(connection, now=NOW + timedelta(minutes=6))
    assert released == [message_id]

    assert story(engine, message_id) == [(1, "sent", "verdict"), (None, "delivered", "message")]
    check_one_final_word_per_attempt(engine, message_id)


def test_a_live_dispatcher_overtaken_by_the_ingest_writes_the_verdict_once(
    engine: Engine,
) -> None:
    who = traveller(engine)
    message_id = queued(engine, who)
    with engine.begin() as connection:
        store.claim_batch(connection, now=NOW, owner="a", lease=timedelta(minutes=5), limit=1)
        store.mark_send_started(connection, [message_id], now=NOW, owner="a")
    wamid = meta.new_wamid()
    # While the POST hangs, Meta's receipts arrive and are applied.
    ingest(engine, meta.status(wamid, "sent", NOW + S, callback=str(message_id)))
    ingest(engine, meta.status(wamid, "delivered", NOW + 2 * S, callback=str(message_id)))
    # Then the POST times out: the dispatcher writes the attempt in doubt.
    in_doubt = Outcome(message_id, "in_doubt", "pending", 0, reason="network")
    post = AttemptLog(who.user_id, message_id, who.phone, "failed", {"in_doubt": True},
                      "NetworkError: timeout", 1, None, NOW + 5 * S)  # fmt: skip
    with engine.begin() as connection:
        store.write_outcomes(connection, [in_doubt], [post], owner="a")

    assert message(engine, message_id)["status"] == "delivered"
    assert story(engine, message_id) == [
        (1, "failed", "post"),
        (1, "sent", "verdict"),
        (None, "delivered", "message"),
    ]
    check_one_final_word_per_attempt(engine, message_id)
