"""When this process cannot send, and when one answer is slow: what the outbox keeps.

"Cannot send" (a token HTTP refuses, an expired or unpaid account, ...) stops the run
and leaves every claimed message pending, never failed. A trickling answer costs at
most the client's deadline and leaves only its own send in doubt.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import logs_of, message
from tests.dispatch.conftest import Clock
from tests.dispatch.live import LIMIT, config, queue_for_new_travellers, rows, wait_for
from tests.dispatch.mock_api import dispatch, queued, refuse, traveller
from tripcast.dispatch import DispatchReport, DispatchSettings, DispatchStopped, run_dispatch
from tripcast.dispatch import utc_now as real_now
from tripcast.whatsapp.fake import FakeCloudApi

ONE_AT_A_TIME = DispatchSettings(send_rate=None, lanes=1, max_in_flight=1)


def untouched(engine: Engine, ids: list[Any]) -> set[tuple[Any, ...]]:
    return {
        (row["status"], row["send_started_at"], row["lease_owner"], row["failed_reason"])
        for row in (message(engine, i) for i in ids)
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("code", "text", "hint"),
    [
        (131042, "Business eligibility payment issue", "payment method"),
        (368, "Temporarily blocked for policies violations", "WhatsApp Manager"),
        (131031, "Business Account locked", "WhatsApp Manager"),
        (131057, "Account in maintenance mode", "WhatsApp Manager"),
        (3, "Capability or permissions issue", "permissions"),
    ],
)
async def test_an_account_that_cannot_send_stops_the_run_and_fails_nothing(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock, code: int, text: str, hint: str
) -> None:
    refuse(httpx_mock, code, text)
    ids = [queued(engine, traveller(engine)) for _ in range(4)]

    with pytest.raises(DispatchStopped) as stopped:
        await dispatch(engine, clock, ONE_AT_A_TIME)

    line = str(stopped.value)
    assert line.startswith(f"dispatch stopped: this process cannot send ({code}: {text})")
    assert "4 claimed messages left pending" in line and hint in line
    assert len(httpx_mock.get_requests()) == 1
    assert untouched(engine, ids) == {("pending", None, None, None)}
    assert stopped.value.report.count("failed") == 0


@pytest.mark.integration
@pytest.mark.parametrize("transport", ["aiohttp", "httpx-default"])
def test_a_token_ending_in_a_newline_stops_the_run_with_nothing_sent_or_failed(
    engine: Engine, fake_api: FakeCloudApi, transport: str
) -> None:
    fake_api.reset(config(enforce_service_window=False))
    ids = queue_for_new_travellers(engine, 5, last_inbound_at=real_now())
    pasted = fake_api.access_token + "\n"

    with pytest.raises(DispatchStopped) as stopped:
        run_dispatch(
            engine,
            client_factory=lambda: fake_api.client(
                access_token=pasted, timeout=2.0, transport=transport
            ),
            settings=DispatchSettings(send_rate=LIMIT),
        )

    line = str(stopped.value)
    assert "configuration: the request could not be built" in line
    assert "5 claimed messages left pending" in line and "TRIPCAST_WHATSAPP_" in line
    assert fake_api.state()["requests"] == 0
    assert untouched(engine, ids) == {("pending", None, None, None)}
    assert all(log["status"] == "failed" for i in ids for log in logs_of(engine, i))


@pytest.mark.integration
@pytest.mark.parametrize(
    ("wrong", "expected"),
    [
        ({"phone_number_id": "999999999999999"}, "(100: Invalid parameter (Unsupported post"),
        ({"api_version": "v1.0/nowhere"}, "configuration: HTTP 404"),
    ],
)
def test_settings_that_miss_the_messages_endpoint_stop_the_run_with_nothing_failed(
    engine: Engine, fake_api: FakeCloudApi, wrong: dict[str, str], expected: str
) -> None:
    fake_api.reset(config(enforce_service_window=False))
    fake_api.set_config(known_phone_number_ids=[fake_api.phone_number_id])
    ids = queue_for_new_travellers(engine, 5, last_inbound_at=real_now())

    with pytest.raises(DispatchStopped) as stopped:
        run_dispatch(
            engine,
            client_factory=lambda: fake_api.client(timeout=2.0, **wrong),
            settings=DispatchSettings(send_rate=LIMIT),
        )

    line = str(stopped.value)
    assert expected in line and "fix the TRIPCAST_WHATSAPP_* settings" in line
    assert untouched(engine, ids) == {("pending", None, None, None)}
    assert fake_api.accepted() == []


@pytest.mark.integration
def test_a_trickling_answer_goes_in_doubt_alone_while_the_batch_is_recorded_at_once(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    # One byte every 0.5 s: the 2 s per-read timeout never fires; the 4 s deadline does.
    fake_api.reset(config(latency_seconds=0.0, enforce_service_window=False, trickle_seconds=0.5))
    fake_api.script_faults("accept_then_trickle")
    ids = queue_for_new_travellers(engine, 6, last_inbound_at=real_now())
    reports: list[DispatchReport] = []
    run = threading.Thread(
        target=lambda: reports.append(
            run_dispatch(
                engine,
                client_factory=lambda: fake_api.client(timeout=2.0, deadline=4.0),
                settings=DispatchSettings(send_rate=LIMIT, lanes=1, record_after=0.3),
                max_batches=1,
            )
        )
    )
    run.start()
    try:
        # The five prompt answers are recorded while the sixth is still trickling in.
        wait_for(
            engine,
            "SELECT (count(*) = 5)::int FROM whatsapp_messages WHERE status = 'sent'",
            timeout=3.0,
        )
        assert run.is_alive()
    finally:
        run.join(timeout=30)
    (report,) = reports
    (slow,) = rows(
        engine,
        "SELECT id, status, send_started_at, external_id FROM whatsapp_messages"
        " WHERE status <> 'sent'",
    )
    assert slow["id"] in ids
    assert (slow["status"], slow["external_id"]) == ("pending", None)
    assert slow["send_started_at"] is not None  # in doubt: reconciled, never re-sent
    (log,) = logs_of(engine, slow["id"])
    assert "within the 4s deadline" in log["error_message"]
    assert (report.count("sent"), report.count("in_doubt"), report.batches) == (5, 1, 1)
    assert report.attempts == 6
