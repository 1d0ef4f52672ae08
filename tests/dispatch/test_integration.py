"""Dispatch against the real local fake Cloud API over loopback: single cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE, make_traveller, message, queue_message
from tests.dispatch.live import LIMIT, config, queue_for_new_travellers, rows
from tripcast.dispatch import (
    DispatchReport,
    DispatchSettings,
    DispatchStopped,
    run_dispatch,
    utc_now,
)
from tripcast.whatsapp.fake import FakeCloudApi

pytestmark = pytest.mark.integration


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


def one_at_a_time(engine: Engine, fake: FakeCloudApi, **options: Any) -> DispatchReport:
    return run_dispatch(
        engine,
        client_factory=lambda: fake.client(timeout=2.0),
        settings=DispatchSettings(send_rate=LIMIT, lanes=1, max_in_flight=1),
        **options,
    )


def test_the_webhook_ingest_settles_a_send_accepted_then_dropped(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    from tripcast.webhooks.ingest import drain
    from tripcast.webhooks.receiver_server import ReceiverConfig, running_receiver

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
        first = one_at_a_time(engine, fake_api)
        assert first.by_outcome[("in_doubt", "network")] == 1
        assert message(engine, dropped)["status"] == "pending"
        fake_api.wait_for_webhooks()
    drain(engine)

    (accepted,) = fake_api.accepted(callback_data=str(dropped))
    row = message(engine, dropped)
    assert (row["status"], row["external_id"]) == ("delivered", accepted["wamid"])
    # its POST (in doubt), its verdict from the webhook (accepted), its delivery
    logs = rows(
        engine,
        "SELECT attempt, status, provider_response ->> 'source' AS source FROM delivery_logs "
        "WHERE whatsapp_message_id = %(id)s",
        id=dropped,
    )
    assert sorted((log["attempt"] or 0, log["status"], log["source"] or "") for log in logs) == [
        (0, "delivered", ""),
        (1, "failed", ""),
        (1, "sent", "status webhook"),
    ]
    later = one_at_a_time(engine, fake_api, now_fn=lambda: utc_now() + timedelta(hours=1))
    assert (later.claimed, later.expired_in_doubt) == (0, 0)
    assert fake_api.duplicates() == {}
    assert {message(engine, other)["status"] for other in others} == {"delivered"}
