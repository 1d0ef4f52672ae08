"""Verification codes: sent to accounts not opted in yet, never after their expiry."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import logs_of, message
from tests.dispatch.conftest import NOW, Clock
from tests.dispatch.mock_api import accept_all, dispatch, posted, queued, refuse, traveller
from tripcast.dispatch import store
from tripcast.dispatch.launch import not_posted as _not_posted
from tripcast.dispatch.message_plan import Claimed, Refuse, Send, plan_message, verification_expiry
from tripcast.dispatch.outcomes import errored
from tripcast.dispatch.sender import Launched
from tripcast.verification.codes import message_content, message_metadata
from tripcast.whatsapp.error_codes import error_from_response

EXPIRED = "cancelled: verification code expired"
LEASE = timedelta(minutes=5)


def code_metadata(expires_at: datetime, code: str = "042917") -> dict[str, Any]:
    return message_metadata(code, expires_at=expires_at)


def code(**changes: Any) -> Claimed:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "message_type": "template",
        "content": message_content(),
        "metadata": code_metadata(NOW + timedelta(minutes=10)),
        "retry_count": 0,
        "phone_number": "351912345678",
        "opt_in_status": "pending",
        "last_inbound_at": None,
        "marketing": None,
        "created_at": NOW - timedelta(seconds=5),
        "opted_out_at": None,
    }
    return Claimed(**(values | changes))


# -- the rule, without I/O ------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "opted_in"])
def test_a_live_code_goes_to_an_account_not_opted_out(status: str) -> None:
    plan = plan_message(code(opt_in_status=status), now=NOW)
    assert isinstance(plan, Send)
    assert plan.form == "template"
    assert plan.expires_at == NOW + timedelta(minutes=10)
    assert plan.message.api_object()["name"] == "verification_code"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("opted_out_at", "sent"),
    [
        (NOW - timedelta(minutes=1), True),  # STOP, then the traveller asked for a code
        (NOW - timedelta(seconds=1), False),  # the code was queued before the STOP
        (None, False),  # opted out at an unknown time: not after the code
    ],
    ids=["asked-after-stop", "queued-before-stop", "unknown-time"],
)
def test_an_opted_out_account_gets_only_a_code_it_asked_for_after_the_stop(
    opted_out_at: datetime | None, sent: bool
) -> None:
    plan = plan_message(code(opt_in_status="opted_out", opted_out_at=opted_out_at), now=NOW)
    assert isinstance(plan, Send) is sent
    if not sent:
        assert isinstance(plan, Refuse)
        assert (plan.reason, plan.cancelled) == ("cancelled: opted out", True)


@pytest.mark.parametrize("status", ["pending", "opted_in"])
def test_an_expired_code_is_cancelled_with_a_queryable_reason(status: str) -> None:
    expired = code(opt_in_status=status, metadata=code_metadata(NOW))
    plan = plan_message(expired, now=NOW)
    assert isinstance(plan, Refuse)
    assert (plan.reason, plan.cancelled) == (EXPIRED, True)


@pytest.mark.parametrize(
    "metadata",
    [
        {"category": "authentication", "template": code_metadata(NOW)["template"]},
        {**code_metadata(NOW), "verification": {"expires_at": "soon"}},
        {**code_metadata(NOW), "verification": {"expires_at": "2026-11-24T09:10:00"}},
        {**code_metadata(NOW + timedelta(minutes=10)), "category": "trip_reminders"},
    ],
    ids=["no-expiry", "unreadable-expiry", "naive-expiry", "not-authentication"],
)
def test_without_a_readable_expiry_there_is_no_exception_to_opt_in(
    metadata: dict[str, Any],
) -> None:
    assert verification_expiry(metadata) is None
    plan = plan_message(code(metadata=metadata), now=NOW)
    assert isinstance(plan, Refuse)
    assert plan.reason == "cancelled: not opted in"


def a_send(expires_in: timedelta) -> Send:
    plan = plan_message(code(metadata=code_metadata(NOW + expires_in)), now=NOW)
    assert isinstance(plan, Send)
    return plan


def test_a_retry_is_never_scheduled_at_or_after_the_codes_expiry() -> None:
    error = error_from_response(500, {"error": {"message": "Something went wrong", "code": 131000}})
    rng = random.Random(1)
    retried, _ = errored(a_send(timedelta(minutes=10)), error, now=NOW, max_attempts=5, rng=rng)
    assert (retried.kind, retried.status) == ("retry", "pending")
    assert retried.next_attempt_at is not None
    assert retried.next_attempt_at < NOW + timedelta(minutes=10)

    dying = a_send(timedelta(milliseconds=500))  # the backoff is at least a second
    failed, log = errored(dying, error, now=NOW, max_attempts=5, rng=rng)
    assert (failed.kind, failed.status, failed.error_code) == ("failed", "failed", 131000)
    assert failed.next_attempt_at is None
    assert failed.failed_reason is not None
    assert failed.failed_reason.endswith(
        "(not retried: the verification code expires before the next attempt)"
    )
    assert (log.status, log.attempt) == ("failed", 1)


def test_a_throttled_code_that_would_go_after_its_expiry_is_cancelled() -> None:
    alive, dying = a_send(timedelta(minutes=10)), a_send(timedelta(milliseconds=500))
    run = SimpleNamespace(now_fn=lambda: NOW, sender=SimpleNamespace(throttle_seconds=1.0))
    deferred, cancelled = _not_posted(run, Launched([], [alive, dying], "throttled"))  # type: ignore[arg-type]
    assert (deferred.kind, deferred.status) == ("deferred", "pending")
    assert deferred.next_attempt_at == NOW + timedelta(seconds=1)
    assert (cancelled.kind, cancelled.status, cancelled.failed_reason) == (
        "cancelled",
        "failed",
        EXPIRED,
    )
    assert cancelled.failed_at == NOW


# -- on the database ------------------------------------------------------------------


def queue_code(engine: Engine, who: Any, *, expires_at: datetime, **columns: Any) -> uuid.UUID:
    message_id: uuid.UUID = queued(
        engine,
        who,
        message_type="template",
        content=message_content(),
        metadata=code_metadata(expires_at),
        **columns,
    )
    return message_id


def opt_out(engine: Engine, account_id: uuid.UUID, at: datetime) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET opt_in_status = 'opted_out', opted_out_at = %(at)s "
            "WHERE id = %(id)s",
            {"at": at, "id": account_id},
        )


@pytest.mark.anyio
async def test_a_code_reaches_a_pending_account_and_an_ordinary_message_does_not(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_all(httpx_mock)
    who = traveller(engine, opt_in_status="pending")
    code_id = queue_code(engine, who, expires_at=NOW + timedelta(minutes=10))
    reminder = queued(engine, who)

    report = await dispatch(engine, clock)

    assert [body["biz_opaque_callback_data"] for body in posted(httpx_mock)] == [str(code_id)]
    assert posted(httpx_mock)[0]["template"]["name"] == "verification_code"
    assert (message(engine, code_id)["status"], message(engine, reminder)["status"]) == (
        "sent",
        "failed",
    )
    assert message(engine, reminder)["failed_reason"] == "cancelled: not opted in"
    assert [(log["attempt"], log["status"]) for log in logs_of(engine, code_id)] == [(1, "sent")]
    assert report.by_outcome[("cancelled", "not opted in")] == 1


@pytest.mark.anyio
async def test_an_expired_code_is_failed_unsent_and_queryable(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    who = traveller(engine, opt_in_status="pending")
    code_id = queue_code(engine, who, expires_at=NOW - timedelta(seconds=1))

    report = await dispatch(engine, clock)

    assert httpx_mock.get_requests() == []
    row = message(engine, code_id)
    assert (row["status"], row["failed_reason"], row["failed_at"]) == ("failed", EXPIRED, NOW)
    assert report.by_outcome[("cancelled", "verification code expired")] == 1
    with engine.connect() as connection:
        cancelled = connection.exec_driver_sql(
            "SELECT id FROM whatsapp_messages WHERE failed_reason LIKE 'cancelled:%%'"
        ).scalars()
        assert list(cancelled) == [code_id]


@pytest.mark.anyio
async def test_a_code_failing_transiently_near_its_expiry_fails_instead_of_retrying(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    refuse(httpx_mock, 131000, "(#131000) Something went wrong", status=500)
    who = traveller(engine, opt_in_status="pending")
    code_id = queue_code(engine, who, expires_at=NOW + timedelta(milliseconds=800))

    await dispatch(engine, clock)

    row = message(engine, code_id)
    assert (row["status"], row["error_code"], row["retry_count"]) == ("failed", 131000, 0)
    assert "not retried: the verification code expires" in row["failed_reason"]
    clock.advance(minutes=1)
    await dispatch(engine, clock)
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.anyio
async def test_an_opted_out_traveller_gets_a_code_asked_for_after_the_stop_only(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_all(httpx_mock)
    asked_again = traveller(engine, opt_in_status="pending")
    slipped = traveller(engine, opt_in_status="pending")
    opt_out(engine, asked_again.account_id, NOW - timedelta(minutes=2))
    after = queue_code(engine, asked_again, expires_at=NOW + timedelta(minutes=10),
                       created_at=NOW - timedelta(minutes=1))  # fmt: skip
    # Queued before the STOP (which cancels what is pending, but not a send in flight
    # that then goes back to the queue): never sent once the traveller opted out.
    before = queue_code(engine, slipped, expires_at=NOW + timedelta(minutes=10),
                        created_at=NOW - timedelta(minutes=2))  # fmt: skip
    opt_out(engine, slipped.account_id, NOW - timedelta(minutes=1))

    await dispatch(engine, clock)

    assert [body["biz_opaque_callback_data"] for body in posted(httpx_mock)] == [str(after)]
    row = message(engine, before)
    assert (row["status"], row["failed_reason"]) == ("failed", "cancelled: opted out")


def test_the_send_started_mark_rechecks_the_code_rule(engine: Engine) -> None:
    who = traveller(engine, opt_in_status="pending")
    alive = queue_code(engine, who, expires_at=NOW + timedelta(minutes=10))
    dying = queue_code(engine, who, expires_at=NOW + timedelta(seconds=1))
    ordinary = queued(engine, who)
    expiries = {alive: NOW + timedelta(minutes=10), dying: NOW + timedelta(seconds=1)}
    ids = [alive, dying, ordinary]
    with engine.begin() as connection:
        store.claim_batch(connection, now=NOW, owner="a", lease=LEASE, limit=10)
    with engine.begin() as connection:
        later = NOW + timedelta(seconds=1)
        marked = store.mark_send_started(
            connection, ids, now=later, owner="a", code_expires_at=expiries
        )
        assert marked == {alive}  # the dying code expired since the claim; not opted in
        connection.exec_driver_sql("UPDATE whatsapp_messages SET send_started_at = NULL")
        # A STOP applied since the claim stops even a code asked for before it.
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET opt_in_status = 'opted_out', opted_out_at = now() "
            "WHERE id = %(id)s",
            {"id": who.account_id},
        )
        again = store.mark_send_started(
            connection, ids, now=NOW, owner="a", code_expires_at=expiries
        )
        assert again == set()
