"""End to end with the local fake Cloud API: sends in doubt reconciled from its signed,
duplicated, shuffled status webhooks; a traveller's STOP and reply through its inbound."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from tests.webhooks.builders import Traveller, make_outbound, make_traveller, rows, scalar
from tests.webhooks.conftest import APP_SECRET
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver
from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig, running_fake_cloud_api

pytestmark = pytest.mark.integration


def fake_config(receiver: BackgroundReceiver) -> FakeCloudApiConfig:
    return FakeCloudApiConfig(
        webhook_url=receiver.url,
        app_secret=APP_SECRET,
        webhook_duplicate_rate=0.5,
        webhook_shuffle=True,
        webhook_batch_size=7,
        webhook_flush_seconds=0.01,
        latency_seconds=0,
        throughput_per_second=None,
        pair_rate_window_seconds=None,
        enforce_service_window=False,
    )


async def send_all(fake: FakeCloudApi, sends: list[tuple[str, uuid.UUID]]) -> None:
    async with fake.client() as client:
        for phone, message_id in sends:
            # The answer is dropped on purpose: each send stays in doubt, as if the
            # worker died after the POST, and only its webhooks can reconcile it.
            await client.send_text(
                phone, "Your trip starts tomorrow", callback_data=str(message_id)
            )


def queue_in_doubt(engine: Engine) -> tuple[list[Traveller], list[tuple[str, uuid.UUID]]]:
    """Ten travellers with two pending messages each whose sends are in doubt."""
    started = datetime.now(UTC)
    with engine.begin() as connection:
        travellers = [make_traveller(connection, phone=f"3519123456{n:02d}") for n in range(10)]
        sends = [
            (t.phone, make_outbound(connection, t, status="pending", send_started_at=started))
            for t in travellers
            for _ in range(2)
        ]
    return travellers, sends


def test_sends_in_doubt_are_reconciled_and_replies_applied(
    receiver: BackgroundReceiver, engine: Engine
) -> None:
    travellers, sends = queue_in_doubt(engine)
    with running_fake_cloud_api(fake_config(receiver)) as fake:
        asyncio.run(send_all(fake, sends))
        fake.send_inbound(travellers[0].phone, "STOP")
        fake.send_inbound(travellers[1].phone, "See you in Lisbon!")
        webhooks = fake.wait_for_webhooks(timeout=20)
        accepted = {m["callback_data"]: m["wamid"] for m in fake.accepted()}
    assert webhooks["updates_delivered"] > 3 * len(sends)  # duplicates were delivered too
    assert drain(engine).receipts_unmatched == 0
    states = rows(
        engine,
        "SELECT id, status, external_id, sent_at IS NOT NULL AND delivered_at IS NOT NULL "
        "AND read_at IS NOT NULL AS stamped FROM whatsapp_messages WHERE direction = 'outbound'",
    )
    assert {(str(s["id"]), s["status"], s["external_id"], s["stamped"]) for s in states} == {
        (str(message_id), "read", accepted[str(message_id)], True) for _, message_id in sends
    }
    assert scalar(engine, "SELECT count(*) FROM delivery_logs WHERE status = 'delivered'") == 20
    # each send in doubt also gets its attempt's final word: accepted, under attempt 1
    assert scalar(
        engine, "SELECT count(*) FROM delivery_logs WHERE status = 'sent' AND attempt = 1"
    ) == len(sends)
    accounts = rows(engine, "SELECT phone_number, opt_in_status FROM whatsapp_accounts")
    opted_out = {row["phone_number"] for row in accounts if row["opt_in_status"] == "opted_out"}
    assert opted_out == {travellers[0].phone}
    replies = rows(
        engine,
        "SELECT whatsapp_account_id, content FROM whatsapp_messages WHERE direction = 'inbound'",
    )
    assert {(r["whatsapp_account_id"], r["content"]) for r in replies} == {
        (travellers[0].account, "STOP"),
        (travellers[1].account, "See you in Lisbon!"),
    }
    assert scalar(
        engine,
        "SELECT last_inbound_at FROM whatsapp_accounts WHERE id = %(a)s",
        a=travellers[1].account,
    )


def test_a_status_tripcast_does_not_use_is_acknowledged_and_counted(
    receiver: BackgroundReceiver, engine: Engine
) -> None:
    travellers, sends = queue_in_doubt(engine)
    config = fake_config(receiver).model_copy(
        update={"webhook_statuses": ["sent", "delivered", "read", "played"]}
    )
    with running_fake_cloud_api(config) as fake:
        asyncio.run(send_all(fake, sends))
        webhooks = fake.wait_for_webhooks(timeout=20)
    assert (webhooks["posts_failed"], webhooks["updates_dropped"]) == (0, 0)
    report = drain(engine)
    assert report.unused["status:played"] >= len(sends)  # duplicates counted too
    assert (report.failed, report.items_rejected, report.receipts_unmatched) == (0, 0, 0)
    statuses = rows(engine, "SELECT DISTINCT status FROM whatsapp_messages")
    assert statuses == [{"status": "read"}]
    assert len(travellers) == 10
