"""Status and inbound webhooks from the running fake, checked at a local receiver."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.whatsapp.receiver import WebhookReceiver
from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig, running_fake_cloud_api
from tripcast.whatsapp.messages import TemplateMessage
from tripcast.whatsapp.webhook import (
    iter_inbound_messages,
    iter_statuses,
    parse_webhook,
    verify_signature,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

REMINDER = TemplateMessage.build("trip_reminder", "en_US", body=["Ana"])
RECIPIENTS = ["351912345671", "351912345672", "351912345673"]


async def send_three(fake: FakeCloudApi) -> list[str]:
    async with fake.client() as client:
        return [
            (await client.send_template(to, REMINDER, callback_data=f"m-{i}")).message_id
            for i, to in enumerate(RECIPIENTS)
        ]


def statuses_at(receiver: WebhookReceiver) -> list[tuple[str, str, str | None]]:
    return [
        (status.id, status.status, status.biz_opaque_callback_data)
        for delivery in receiver.deliveries
        for status in iter_statuses(parse_webhook(delivery.body))
    ]


async def test_statuses_arrive_signed_batched_and_in_order(
    fake: FakeCloudApi, receiver: WebhookReceiver
) -> None:
    fake.set_config(webhook_url=receiver.url, webhook_flush_seconds=0.2)
    wamids = await send_three(fake)
    assert fake.wait_for_webhooks()["updates_delivered"] == 9
    assert all(verify_signature(fake.app_secret, d.body, d.signature) for d in receiver.deliveries)
    assert len(receiver.deliveries) < 9  # many statuses per POST, like Meta
    expected = [
        (wamid, name, f"m-{i}")
        for i, wamid in enumerate(wamids)
        for name in ("sent", "delivered", "read")
    ]
    assert sorted(statuses_at(receiver)) == sorted(expected)
    for wamid in wamids:
        assert [s for w, s, _ in statuses_at(receiver) if w == wamid] == [
            "sent",
            "delivered",
            "read",
        ]


async def test_non_200_deliveries_are_retried(
    fake: FakeCloudApi, receiver: WebhookReceiver
) -> None:
    receiver.refuse_next = 2
    fake.set_config(webhook_url=receiver.url, webhook_statuses=["sent"])
    await send_three(fake)
    webhooks = fake.wait_for_webhooks()
    assert receiver.refused == 2
    assert webhooks["posts_failed"] == 2
    assert webhooks["updates_dropped"] == 0
    assert sorted(s for _, s, _ in statuses_at(receiver)) == ["sent"] * 3


async def test_deliveries_are_dropped_after_the_last_attempt(
    fake: FakeCloudApi, receiver: WebhookReceiver
) -> None:
    receiver.refuse_next = 100
    fake.set_config(webhook_url=receiver.url, webhook_statuses=["sent"], webhook_max_attempts=2)
    await send_three(fake)
    webhooks = fake.wait_for_webhooks()
    assert webhooks["updates_dropped"] == 3
    assert receiver.deliveries == []


async def test_duplicated_and_shuffled_statuses(
    fake: FakeCloudApi, receiver: WebhookReceiver
) -> None:
    fake.set_config(
        webhook_url=receiver.url,
        webhook_duplicate_rate=1.0,
        webhook_shuffle=True,
        webhook_flush_seconds=0.2,
    )
    wamids = await send_three(fake)
    fake.wait_for_webhooks()
    seen = statuses_at(receiver)
    counts = Counter((wamid, status) for wamid, status, _ in seen)
    assert set(counts.values()) == {2}
    assert len(counts) == 9
    in_order = [
        (w, s) for w in wamids for s in ("sent", "sent", "delivered", "delivered", "read", "read")
    ]
    assert [(w, s) for w, s, _ in seen] != in_order


async def test_failures_via_webhook_report_failed_with_errors(
    fake: FakeCloudApi, receiver: WebhookReceiver
) -> None:
    fake.set_config(webhook_url=receiver.url, failures_via_webhook=True)
    async with fake.client() as client:
        accepted = await client.send_text("351912345671", "no window", callback_data="late")
    fake.wait_for_webhooks()
    (status,) = [s for d in receiver.deliveries for s in iter_statuses(parse_webhook(d.body))]
    assert (status.id, status.status, status.biz_opaque_callback_data) == (
        accepted.message_id,
        "failed",
        "late",
    )
    assert [e.code for e in status.errors] == [131047]


async def test_inbound_message_opens_the_window_and_is_delivered_signed(
    fake: FakeCloudApi, receiver: WebhookReceiver
) -> None:
    fake.set_config(webhook_url=receiver.url, webhook_statuses=[])
    answer = fake.send_inbound("351912345671", "STOP", name="Ana")
    assert answer["webhook"] is True
    fake.wait_for_webhooks()
    (delivery,) = receiver.deliveries
    assert verify_signature(fake.app_secret, delivery.body, delivery.signature)
    payload = parse_webhook(delivery.body)
    (message,) = list(iter_inbound_messages(payload))
    assert (message.sender, message.text_body, message.id) == ("351912345671", "STOP", answer["id"])
    assert json.loads(delivery.body)["entry"][0]["changes"][0]["value"]["contacts"][0][
        "profile"
    ] == {"name": "Ana"}
    async with fake.client() as client:
        await client.send_text("351912345671", "You are unsubscribed")


def test_fake_in_a_subprocess_behaves_the_same() -> None:
    config = FakeCloudApiConfig(latency_seconds=0.0, access_token="sub-token")
    with running_fake_cloud_api(config, in_subprocess=True) as fake:
        import asyncio

        async def send() -> str:
            async with fake.client() as client:
                return (
                    await client.send_template("351912345671", REMINDER, callback_data="s")
                ).message_id

        wamid = asyncio.run(send())
        assert fake.accepted_count("s") == 1
        assert fake.accepted(wamid=wamid)[0]["callback_data"] == "s"
        assert "access_token" not in fake.state()["config"]
