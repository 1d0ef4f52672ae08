"""Dispatch on a real database, the Cloud API mocked with pytest-httpx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE, count, logs_of, message
from tests.dispatch.conftest import NOW, Clock
from tests.dispatch.mock_api import (
    UNPACED,
    accept_all,
    dispatch,
    posted,
    queued,
    refuse,
    traveller,
)
from tripcast.dispatch import DispatchSettings, DispatchStopped

pytestmark = pytest.mark.anyio


async def test_row_with_only_seed_columns_is_sent_once_and_logged(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_all(httpx_mock)
    who = traveller(engine)
    message_id = queued(engine, who, content="Boa viagem")

    report = await dispatch(engine, clock)

    (payload,) = posted(httpx_mock)
    assert payload["to"] == who.phone
    assert payload["text"]["body"] == "Boa viagem"
    assert payload["biz_opaque_callback_data"] == str(message_id)
    row = message(engine, message_id)
    assert row["status"] == "sent"
    assert row["external_id"] == f"wamid.{message_id}"
    assert (row["sent_at"], row["send_started_at"]) == (NOW, NOW)
    assert (row["lease_owner"], row["failed_reason"], row["retry_count"]) == (None, None, 0)
    (log,) = logs_of(engine, message_id)
    assert (log["channel"], log["recipient"], log["status"]) == ("whatsapp", who.phone, "sent")
    assert (log["attempt"], log["error_code"], log["user_id"]) == (1, None, who.user_id)
    assert log["provider_response"]["messages"] == [{"id": f"wamid.{message_id}"}]
    assert report.counts()["sent"] == 1
    assert report.attempts == 1
    # A second run finds nothing to send.
    again = await dispatch(engine, clock)
    assert (again.claimed, len(httpx_mock.get_requests())) == (0, 1)


async def test_only_due_pending_outbound_rows_are_claimed(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_all(httpx_mock)
    who = traveller(engine)
    due = queued(engine, who, next_attempt_at=NOW)
    queued(engine, who, next_attempt_at=NOW + timedelta(seconds=1))
    queued(engine, who, direction="inbound", status="pending")
    queued(engine, who, status="failed")

    report = await dispatch(engine, clock)

    assert [p["biz_opaque_callback_data"] for p in posted(httpx_mock)] == [str(due)]
    assert report.claimed == 1


async def test_outside_the_window_text_goes_as_its_template_or_fails_clearly(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_all(httpx_mock)
    quiet = traveller(engine, last_inbound_at=NOW - timedelta(hours=24))
    with_template = queued(engine, quiet, metadata={"template": TEMPLATE})
    without = queued(engine, quiet)

    report = await dispatch(engine, clock)

    (payload,) = posted(httpx_mock)
    assert payload["type"] == "template"
    assert payload["template"] == TEMPLATE
    assert payload["biz_opaque_callback_data"] == str(with_template)
    failed = message(engine, without)
    assert (failed["status"], failed["failed_reason"]) == (
        "failed",
        "outside 24h window and no template",
    )
    assert failed["failed_at"] == NOW
    assert logs_of(engine, without) == []  # nothing was attempted
    assert report.by_outcome[("refused", "outside 24h window and no template")] == 1


async def test_stop_before_sending_cancels_and_nothing_is_sent(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    who = traveller(engine)
    message_id = queued(engine, who)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET opt_in_status = 'opted_out' WHERE id = %(id)s",
            {"id": who.account_id},
        )

    report = await dispatch(engine, clock)

    assert httpx_mock.get_requests() == []
    row = message(engine, message_id)
    assert (row["status"], row["failed_reason"]) == ("failed", "cancelled: opted out")
    assert (
        count(
            engine, "SELECT count(*) FROM whatsapp_messages WHERE failed_reason LIKE 'cancelled:%%'"
        )
        == 1
    )
    assert report.by_outcome[("cancelled", "opted out")] == 1


async def test_marketing_is_sent_only_with_the_travellers_yes(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_all(httpx_mock)
    keen = traveller(engine, marketing=True)
    wary = traveller(engine, marketing=False)
    silent = traveller(engine)  # no preferences row: the seed's default (false)
    offer = {"category": "marketing"}
    sent = queued(engine, keen, metadata=offer)
    cancelled = [queued(engine, wary, metadata=offer), queued(engine, silent, metadata=offer)]

    await dispatch(engine, clock)

    assert [p["biz_opaque_callback_data"] for p in posted(httpx_mock)] == [str(sent)]
    for message_id in cancelled:
        assert message(engine, message_id)["failed_reason"] == "cancelled: marketing not allowed"


async def test_permanent_error_fails_at_once_with_metas_code(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    refuse(httpx_mock, 131026, "(#131026) Message undeliverable")
    message_id = queued(engine, traveller(engine))

    report = await dispatch(engine, clock)

    row = message(engine, message_id)
    assert row["status"] == "failed"
    assert (row["failed_reason"], row["error_code"]) == ("131026: Message undeliverable", 131026)
    (log,) = logs_of(engine, message_id)
    assert (log["status"], log["error_code"], log["attempt"]) == ("failed", 131026, 1)
    assert log["error_message"] == "131026: Message undeliverable"
    assert log["provider_response"]["error"]["code"] == 131026
    assert {"outcome": "failed", "reason": "131026", "meta_code": 131026, "messages": 1} in (
        report.rows()
    )


async def test_transient_error_is_retried_after_its_backoff(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    refuse(httpx_mock, 131000, "(#131000) Something went wrong", status=500)
    accept_all(httpx_mock)
    message_id = queued(engine, traveller(engine))

    first = await dispatch(engine, clock)
    row = message(engine, message_id)
    assert (row["status"], row["retry_count"], row["send_started_at"]) == ("pending", 1, None)
    assert NOW + timedelta(seconds=1) <= row["next_attempt_at"] <= NOW + timedelta(seconds=1.25)
    assert first.by_outcome[("retry", "131000")] == 1

    not_yet = await dispatch(engine, clock)
    assert (not_yet.claimed, len(httpx_mock.get_requests())) == (0, 1)

    clock.advance(seconds=2)
    await dispatch(engine, clock)
    row = message(engine, message_id)
    assert (row["status"], row["retry_count"]) == ("sent", 1)
    assert [(log["attempt"], log["status"]) for log in logs_of(engine, message_id)] == [
        (1, "failed"),
        (2, "sent"),
    ]


async def test_transient_errors_stop_at_max_attempts_with_the_last_reason(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    for _ in range(3):
        refuse(httpx_mock, 131016, "(#131016) Service unavailable", status=503)
    message_id = queued(engine, traveller(engine))
    settings = DispatchSettings(send_rate=None, lanes=1, max_attempts=3)

    for _ in range(3):
        await dispatch(engine, clock, settings)
        clock.advance(minutes=10)
    await dispatch(engine, clock, settings)  # nothing left to try

    row = message(engine, message_id)
    assert row["status"] == "failed"
    assert row["failed_reason"] == "131016: Service unavailable (gave up after 3 attempts)"
    assert row["error_code"] == 131016
    assert [log["attempt"] for log in logs_of(engine, message_id)] == [1, 2, 3]
    assert len(httpx_mock.get_requests()) == 3


async def test_expired_token_stops_the_batch_and_leaves_the_rest_pending(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    refuse(httpx_mock, 190, "Error validating access token: Session has expired", status=401)
    # Five travellers: one message each, so none waits out the pair rate.
    ids = [queued(engine, traveller(engine)) for _ in range(5)]
    one_at_a_time = DispatchSettings(send_rate=None, lanes=1, max_in_flight=1)

    with pytest.raises(DispatchStopped) as stopped:
        await dispatch(engine, clock, one_at_a_time)

    text = str(stopped.value)
    assert "\n" not in text
    assert "190: Error validating access token" in text
    assert "5 claimed messages left pending" in text
    assert "TRIPCAST_WHATSAPP_ACCESS_TOKEN" in text
    assert len(httpx_mock.get_requests()) == 1
    rows = [message(engine, message_id) for message_id in ids]
    assert {(r["status"], r["send_started_at"], r["lease_owner"]) for r in rows} == {
        ("pending", None, None)
    }
    assert count(engine, "SELECT count(*) FROM delivery_logs WHERE error_code = 190") == 1
    assert stopped.value.report.count("stopped") == 5

    accept_all(httpx_mock)  # the token was renewed
    report = await dispatch(engine, clock, one_at_a_time)
    assert report.counts()["sent"] == 5


async def test_an_account_call_limit_pauses_every_dispatcher_for_its_wait_hint(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    refuse(httpx_mock, 80007, "(#80007) Rate limit issues")
    accept_all(httpx_mock)
    first, *rest = (queued(engine, traveller(engine)) for _ in range(4))

    report = await dispatch(engine, clock, DispatchSettings(send_rate=20, lanes=1))

    assert len(httpx_mock.get_requests()) == 1  # the rest of the batch was not sent
    assert report.by_outcome[("retry", "80007")] == 1
    assert report.by_outcome[("deferred", "throttled")] == 3
    assert message(engine, first)["next_attempt_at"] >= NOW + timedelta(seconds=60)
    for message_id in rest:
        row = message(engine, message_id)
        assert (row["next_attempt_at"], row["retry_count"]) == (NOW + timedelta(seconds=60), 0)
        assert logs_of(engine, message_id) == []
    with engine.connect() as connection:
        paused = connection.exec_driver_sql(
            "SELECT next_slot_at - updated_at FROM send_pacing"
        ).scalar_one()
    assert paused >= timedelta(seconds=60)


async def test_a_second_message_to_one_traveller_waits_out_the_pair_rate(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_all(httpx_mock)
    ana, rui = traveller(engine), traveller(engine)
    first, second = queued(engine, ana), queued(engine, ana)
    other = queued(engine, rui)

    report = await dispatch(engine, clock)

    sent = {p["biz_opaque_callback_data"] for p in posted(httpx_mock)}
    assert len(sent) == 2 and str(other) in sent
    held = second if str(first) in sent else first
    row = message(engine, held)
    free_at = NOW + UNPACED.pair_spacing + timedelta(seconds=UNPACED.batch_seconds)
    assert (row["status"], row["retry_count"], row["next_attempt_at"]) == ("pending", 0, free_at)
    assert report.by_outcome[("deferred", "pair rate spacing")] == 1
    assert logs_of(engine, held) == []
    # Due again once the spacing has passed, and sent then.
    clock.advance(seconds=(free_at - NOW).total_seconds())
    later = await dispatch(engine, clock)
    assert (later.counts()["sent"], message(engine, held)["status"]) == (1, "sent")
