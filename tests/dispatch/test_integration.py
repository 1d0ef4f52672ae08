"""Dispatch against the real local fake Cloud API over loopback, faults injected.

The fake runs in its own process so that its clock and CPU are not shared with the
dispatchers under test; its per-second histogram and accepted counts per callback data
are the ground truth for "at the rate" and "never twice".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE, make_traveller, message, queue_message
from tests.dispatch.fleet import (
    dispatcher_threads,
    reconciling_webhook,
    start_worker_process,
    unsettled,
)
from tripcast.dispatch import DispatchSettings, DispatchStopped, run_dispatch, utc_now
from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig, running_fake_cloud_api

pytestmark = pytest.mark.integration

LIMIT = 20  # TRIPCAST_SEND_RATE for these tests


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeCloudApi]:
    with running_fake_cloud_api(FakeCloudApiConfig(), in_subprocess=True) as fake:
        yield fake


def config(**changes: Any) -> FakeCloudApiConfig:
    base: dict[str, Any] = {
        # Meta's own limiter would refuse (and so hide) any excess: measure ours instead.
        "throughput_per_second": None,
        "hang_seconds": 1.0,
        "webhook_flush_seconds": 0.02,
        "webhook_retry_seconds": 0.1,
    }
    return FakeCloudApiConfig.model_validate(base | changes)


def queue_for_new_travellers(
    engine: Engine, count: int, *, last_inbound_at: datetime | None, every_template: int = 0
) -> list[Any]:
    ids = []
    with engine.begin() as connection:
        for index in range(count):
            who = make_traveller(connection, last_inbound_at=last_inbound_at)
            as_template = every_template and index % every_template == 0
            ids.append(
                queue_message(
                    connection,
                    who,
                    message_type="template" if as_template else "text",
                    metadata={"template": TEMPLATE},
                )
            )
    return ids


def rows(engine: Engine, query: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.exec_driver_sql(query, params).mappings()]


def wait_for(engine: Engine, query: str, *, timeout: float, **params: Any) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            found = int(connection.exec_driver_sql(query, params).scalar_one())
        if found:
            return found
        time.sleep(0.01)
    raise TimeoutError(f"nothing matched within {timeout}s: {query}")


FLEET = DispatchSettings(send_rate=LIMIT, batch_seconds=1.0, lease=timedelta(seconds=10))
IN_FLIGHT = (
    "SELECT count(*) FROM whatsapp_messages WHERE lease_owner = %(owner)s "
    "AND send_started_at IS NOT NULL"
)


def test_a_fleet_with_faults_and_a_killed_worker_sends_each_message_once_at_the_rate(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    count = 160
    ids = queue_for_new_travellers(
        engine, count, last_inbound_at=utc_now() - timedelta(hours=1), every_template=4
    )
    with reconciling_webhook(engine) as webhook_url:
        fake_api.reset(
            config(
                enforce_service_window=False,
                fault_seed=11,
                server_error_rate=0.05,
                timeout_rate=0.03,
                disconnect_rate=0.03,
                accept_then_disconnect_rate=0.04,
                webhook_url=webhook_url,
                webhook_statuses=["sent"],
            )
        )
        doomed = start_worker_process(
            engine,
            fake_api,
            {"send_rate": LIMIT, "batch_seconds": 1.0, "lease_seconds": 3},
            owner="doomed",
        )
        wait_for(engine, IN_FLIGHT, owner="doomed", timeout=30)
        with dispatcher_threads(engine, fake_api, FLEET, count=3, timeout=50) as reports:
            time.sleep(0.4)  # mid-batch: some of its sends answered, some not yet made
            doomed.kill()
            assert doomed.wait() == -9
            doomed_attempts = wait_for(engine, IN_FLIGHT, owner="doomed", timeout=1)
        assert unsettled(engine) == 0, "the three dispatchers did not finish in time"
        fake_api.wait_for_webhooks()
        # An hour later: leases and the in-doubt grace have run out everywhere.
        final = run_dispatch(
            engine,
            client_factory=lambda: fake_api.client(timeout=0.5),
            settings=FLEET,
            now_fn=lambda: utc_now() + timedelta(hours=1),
        )

    state = fake_api.state()
    assert all(
        state["faults"].get(fault, 0) > 0 for fault in ("server_error", "timeout", "disconnect")
    ), state["faults"]
    assert "130429" not in state["refusals"] and "131056" not in state["refusals"]
    assert sum(report.attempts for report in reports) > 0

    # Never twice, never lost: sent exactly when the fake accepted it, once.
    assert fake_api.duplicates() == {}
    accepted = {item["callback_data"] for item in fake_api.accepted()}
    messages = rows(engine, "SELECT * FROM whatsapp_messages")
    assert {row["id"] for row in messages} == set(ids)
    assert {str(row["id"]) for row in messages if row["status"] == "sent"} == accepted
    failed = [row for row in messages if row["status"] == "failed"]
    assert len(accepted) + len(failed) == count
    assert all(
        row["failed_reason"].startswith("outcome unknown")
        or "gave up after 5 attempts" in row["failed_reason"]
        for row in failed
    ), {row["failed_reason"] for row in failed}
    assert final.expired_in_doubt == sum(
        row["failed_reason"].startswith("outcome unknown") for row in failed
    )
    assert all(row["lease_owner"] is None for row in messages)

    # The rate, summed over four dispatchers in two processes, in every one-second window.
    histogram = fake_api.histogram()
    assert max(n for _, n in histogram["per_second"]) <= LIMIT
    assert histogram["max_in_1s"] <= LIMIT
    assert histogram["max_in_1s"] >= 0.75 * LIMIT  # the fleet did push against the limit

    # Every POST has its delivery log: attempts 1..k per message, and as many (message,
    # attempt) pairs as the fake saw requests, plus the killed worker's marked-but-unsent.
    logs = rows(
        engine,
        "SELECT whatsapp_message_id AS id, array_agg(DISTINCT attempt ORDER BY attempt) AS "
        "attempts FROM delivery_logs GROUP BY whatsapp_message_id",
    )
    assert all(row["attempts"] == list(range(1, len(row["attempts"]) + 1)) for row in logs)
    pairs = sum(len(row["attempts"]) for row in logs)
    assert state["requests"] <= pairs <= state["requests"] + doomed_attempts
    logged_sent = rows(
        engine,
        "SELECT DISTINCT whatsapp_message_id AS id FROM delivery_logs WHERE status = 'sent'",
    )
    assert {str(row["id"]) for row in logged_sent} == accepted
    # Accepted, then the connection dropped: in doubt, settled by its status webhook.
    settled_by_webhook = rows(
        engine,
        "SELECT DISTINCT d.whatsapp_message_id FROM delivery_logs AS d "
        "JOIN delivery_logs AS s ON s.whatsapp_message_id = d.whatsapp_message_id "
        "AND s.attempt = d.attempt AND s.status = 'sent' "
        "AND s.provider_response ->> 'source' = 'status webhook' "
        "WHERE d.provider_response ->> 'in_doubt' = 'true'",
    )
    assert settled_by_webhook


def test_the_window_decides_text_or_template_and_metas_verdict_is_kept(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    fake_api.reset(config(latency_seconds=0.0))
    now = utc_now()
    with engine.begin() as connection:
        chatting = make_traveller(connection, last_inbound_at=now - timedelta(hours=2))
        quiet = make_traveller(connection, last_inbound_at=now - timedelta(hours=30))
        disputed = make_traveller(connection, last_inbound_at=now - timedelta(hours=1))
        text = queue_message(connection, chatting, content="Your gate is B12")
        templated = queue_message(connection, quiet, metadata={"template": TEMPLATE})
        refused = queue_message(connection, disputed)
    fake_api.send_inbound(chatting.phone, "hi")  # only this one wrote to Meta's number

    report = run_dispatch(
        engine,
        client_factory=lambda: fake_api.client(timeout=2.0),
        settings=DispatchSettings(send_rate=LIMIT),
    )

    (sent_text,) = fake_api.accepted(callback_data=str(text))
    (sent_template,) = fake_api.accepted(callback_data=str(templated))
    assert (sent_text["type"], sent_template["type"]) == ("text", "template")
    assert sent_template["template_name"] == "trip_reminder"
    row = message(engine, refused)
    assert (row["status"], row["error_code"]) == ("failed", 131047)
    assert row["failed_reason"].startswith("131047: Re-engagement message")
    assert report.counts()["sent"] == 2


def test_throughput_refusal_pauses_the_shared_schedule_and_defers_the_batch(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    fake_api.reset(config(latency_seconds=0.0, enforce_service_window=False))
    ids = queue_for_new_travellers(engine, 10, last_inbound_at=utc_now())
    fake_api.script_faults(130429)
    settings = DispatchSettings(send_rate=LIMIT, lanes=1)

    first = run_dispatch(
        engine, client_factory=lambda: fake_api.client(timeout=2.0), settings=settings
    )
    (pacing,) = rows(engine, "SELECT next_slot_at, updated_at FROM send_pacing")

    assert fake_api.state()["requests"] == 1
    assert first.by_outcome[("retry", "130429")] == 1
    assert first.by_outcome[("deferred", "throttled")] == 9
    assert pacing["next_slot_at"] - pacing["updated_at"] >= timedelta(seconds=1)
    assert all(message(engine, i)["retry_count"] == 0 for i in ids[1:])  # no attempt used

    # Straight away, with everything due again: nothing leaves before the pause is over.
    second = run_dispatch(
        engine,
        client_factory=lambda: fake_api.client(timeout=2.0),
        settings=settings,
        now_fn=lambda: utc_now() + timedelta(seconds=5),
    )
    assert second.counts()["sent"] == 10
    first_accepted = min(item["accepted_epoch"] for item in fake_api.accepted())
    assert first_accepted >= pacing["next_slot_at"].timestamp() - 0.01


def test_a_rejected_token_stops_dispatch_with_nothing_sent_or_in_doubt(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    fake_api.reset(config(enforce_service_window=False))
    stale_token = fake_api.access_token
    fake_api.set_config(access_token="rotated-token")
    ids = queue_for_new_travellers(engine, 20, last_inbound_at=utc_now())

    with pytest.raises(DispatchStopped, match=r"190: .*20 claimed messages left pending"):
        run_dispatch(
            engine,
            client_factory=lambda: fake_api.client(access_token=stale_token, timeout=2.0),
            settings=DispatchSettings(send_rate=LIMIT),
        )

    assert fake_api.state()["requests"] <= 3  # the batch stopped at the first answer
    assert {(message(engine, i)["status"], message(engine, i)["send_started_at"]) for i in ids} == {
        ("pending", None)
    }


def test_the_webhook_ingest_settles_a_send_accepted_then_dropped(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    from tripcast.webhooks.ingest import drain
    from tripcast.webhooks.server import ReceiverConfig, running_receiver

    url = engine.url.render_as_string(hide_password=False)
    receiver_config = ReceiverConfig(url, app_secret="fake-app-secret", verify_token="verify")
    with running_receiver(receiver_config) as receiver:
        fake_api.reset(
            config(
                latency_seconds=0.0,
                enforce_service_window=False,
                app_secret="fake-app-secret",
                webhook_url=receiver.url,
                webhook_statuses=["sent", "delivered"],
            )
        )
        dropped, *others = queue_for_new_travellers(engine, 3, last_inbound_at=utc_now())
        fake_api.script_faults("accept_then_disconnect")  # the first POST: `dropped`'s

        def dispatch(**options: Any) -> Any:
            return run_dispatch(
                engine,
                client_factory=lambda: fake_api.client(timeout=2.0),
                settings=DispatchSettings(send_rate=LIMIT, lanes=1, max_in_flight=1),
                **options,
            )

        first = dispatch()
        assert first.by_outcome[("in_doubt", "network")] == 1
        assert message(engine, dropped)["status"] == "pending"
        fake_api.wait_for_webhooks()
    drain(engine)

    (accepted,) = fake_api.accepted(callback_data=str(dropped))
    row = message(engine, dropped)
    assert (row["status"], row["external_id"]) == ("delivered", accepted["wamid"])
    later = dispatch(now_fn=lambda: utc_now() + timedelta(hours=1))
    assert (later.claimed, later.expired_in_doubt) == (0, 0)
    assert fake_api.duplicates() == {}
    assert {message(engine, other)["status"] for other in others} == {"delivered"}
