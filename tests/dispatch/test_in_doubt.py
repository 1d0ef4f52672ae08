"""Sends in doubt: never re-sent, settled by a status receipt or failed as outcome unknown."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import logs_of, message
from tests.dispatch.conftest import NOW, Clock
from tests.dispatch.mock_api import URL, accept_all, dispatch, posted, queued, traveller
from tests.support.receipts import settle_by_receipt
from tripcast.dispatch import store

pytestmark = pytest.mark.anyio


async def test_a_send_in_doubt_is_never_resent_and_ends_outcome_unknown(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("no answer"), url=URL)
    message_id = queued(engine, traveller(engine))

    report = await dispatch(engine, clock)
    row = message(engine, message_id)
    assert (row["status"], row["send_started_at"], row["lease_owner"]) == ("pending", NOW, None)
    assert report.by_outcome[("in_doubt", "network")] == 1

    clock.advance(minutes=14)
    await dispatch(engine, clock)
    assert len(httpx_mock.get_requests()) == 1  # not re-sent

    clock.advance(minutes=2)
    expired = await dispatch(engine, clock)
    row = message(engine, message_id)
    assert row["status"] == "failed"
    assert row["failed_reason"].startswith("outcome unknown: the send may have reached WhatsApp")
    assert "15 min" in row["failed_reason"]
    assert expired.expired_in_doubt == 1
    assert [(log["attempt"], log["status"]) for log in logs_of(engine, message_id)] == [
        (1, "failed"),
        (1, "failed"),
    ]
    assert len(httpx_mock.get_requests()) == 1


async def test_a_status_receipt_settles_an_in_doubt_send_and_logs_it(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_exception(httpx.RemoteProtocolError("dropped"), url=URL)
    message_id = queued(engine, traveller(engine))
    await dispatch(engine, clock)

    assert settle_by_receipt(engine, message_id, "wamid.LATE", "delivered", NOW)

    row = message(engine, message_id)
    assert (row["status"], row["external_id"], row["delivered_at"]) == (
        "delivered",
        "wamid.LATE",
        NOW,
    )
    written = logs_of(engine, message_id)
    logs = {(log["attempt"], log["status"]): log for log in written}
    # the POST (in doubt), the attempt's final word (accepted), then the delivery itself
    assert len(written) == 3
    assert set(logs) == {(1, "failed"), (1, "sent"), (None, "delivered")}
    assert logs[(1, "sent")]["provider_response"]["source"] == "status webhook"
    assert logs[(None, "delivered")]["delivered_at"] == NOW
    clock.advance(hours=1)
    later = await dispatch(engine, clock)  # neither re-sent nor expired
    assert (later.claimed, later.expired_in_doubt, len(httpx_mock.get_requests())) == (0, 0, 1)


async def test_a_dispatcher_that_vanished_mid_batch_is_cleaned_up_without_resending(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    who = traveller(engine)
    accepted, lost, unstarted = (queued(engine, who) for _ in range(3))
    lease = timedelta(minutes=5)
    with engine.begin() as connection:  # the dead worker claimed three and marked two
        store.claim_batch(connection, now=NOW, owner="gone", lease=lease, limit=3)
        store.mark_send_started(connection, [accepted, lost], now=NOW, owner="gone")
    # Meta accepted one: its receipt arrives
    settle_by_receipt(engine, accepted, "wamid.GONE", "sent", NOW)
    assert logs_of(engine, accepted) == []  # the dead worker's lease still runs
    accept_all(httpx_mock)

    clock.advance(minutes=5, seconds=1)
    await dispatch(engine, clock)

    assert [p["biz_opaque_callback_data"] for p in posted(httpx_mock)] == [str(unstarted)]
    row = message(engine, accepted)
    assert (row["status"], row["lease_owner"]) == ("sent", None)
    assert [(log["attempt"], log["status"]) for log in logs_of(engine, accepted)] == [(1, "sent")]
    assert message(engine, lost)["status"] == "pending"

    clock.advance(minutes=15)
    report = await dispatch(engine, clock)
    row = message(engine, lost)
    assert row["status"] == "failed"
    assert row["failed_reason"].startswith("outcome unknown")
    assert [(log["attempt"], log["status"]) for log in logs_of(engine, lost)] == [(1, "failed")]
    assert report.expired_in_doubt == 1
    assert len(httpx_mock.get_requests()) == 1


async def test_a_receipt_for_a_send_retried_after_a_5xx_settles_it_under_that_attempt(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    # Meta answered 500 yet accepted the message: its receipt must stop the retry.
    httpx_mock.add_response(url=URL, status_code=500, json={"error": {"code": 131000}})
    message_id = queued(engine, traveller(engine), retry_count=2)  # as after a rerun's 2 tries
    await dispatch(engine, clock)
    assert message(engine, message_id)["retry_count"] == 3

    settle_by_receipt(engine, message_id, "wamid.500", "sent", NOW)
    clock.advance(hours=1)
    await dispatch(engine, clock)

    assert message(engine, message_id)["status"] == "sent"
    assert [(log["attempt"], log["status"]) for log in logs_of(engine, message_id)] == [
        (3, "failed"),
        (3, "sent"),
    ]
    assert len(httpx_mock.get_requests()) == 1
