"""End to end over loopback: the fake's status webhooks carry PMP pricing, the ingest keeps it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from tests.webhooks.builders import make_outbound, make_traveller, rows
from tests.webhooks.conftest import APP_SECRET
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver, ReceiverConfig, running_receiver
from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig, running_fake_cloud_api
from tripcast.whatsapp.fake.config import FakeTemplate
from tripcast.whatsapp.messages import TemplateMessage

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver(engine: Engine) -> Iterator[BackgroundReceiver]:
    config = ReceiverConfig(
        database_url=engine.url.render_as_string(hide_password=False),
        app_secret=APP_SECRET,
        verify_token="costs-verify-token",
    )
    with running_receiver(config) as running:
        yield running


def fake_config(receiver: BackgroundReceiver) -> FakeCloudApiConfig:
    return FakeCloudApiConfig(
        webhook_url=receiver.url,
        app_secret=APP_SECRET,
        webhook_duplicate_rate=0.5,
        webhook_flush_seconds=0.01,
        latency_seconds=0,
        throughput_per_second=None,
        pair_rate_window_seconds=None,
        templates={
            "trip_offer": FakeTemplate(category="MARKETING"),
            "trip_reminder": FakeTemplate(category="UTILITY"),
        },
    )


async def send(fake: FakeCloudApi, sends: list[tuple[str, str | None, uuid.UUID]]) -> None:
    async with fake.client() as client:
        for phone, template, message_id in sends:
            if template is None:
                await client.send_text(phone, "Sure, 9:00 works", callback_data=str(message_id))
            else:
                message = TemplateMessage.build(template, "en_US")
                await client.send_template(phone, message, callback_data=str(message_id))


def test_the_fakes_pricing_is_kept_per_message(
    receiver: BackgroundReceiver, engine: Engine
) -> None:
    with engine.begin() as connection:
        lisbon = make_traveller(connection, phone="351912345678")
        boston = make_traveller(connection, phone="16175550123")
        ids = [make_outbound(connection, t, status="pending") for t in (lisbon, lisbon, boston)]
    with running_fake_cloud_api(fake_config(receiver)) as fake:
        fake.send_inbound(lisbon.phone, "Can we meet at 9?")  # opens Lisbon's window
        sends = [(lisbon.phone, None, ids[0]), (lisbon.phone, "trip_reminder", ids[1]),
                 (boston.phone, "trip_offer", ids[2])]  # fmt: skip
        asyncio.run(send(fake, sends))
        fake.wait_for_webhooks(timeout=20)
    drain(engine)
    found = rows(
        engine,
        "SELECT message_id, category, pricing_type, billable, destination_country "
        "FROM whatsapp_message_pricing",
    )
    assert {(r["message_id"], r["category"], r["pricing_type"], r["billable"],
             r["destination_country"]) for r in found} == {
        (ids[0], "service", "free_customer_service", False, "PT"),
        (ids[1], "utility", "free_customer_service", False, "PT"),  # inside the window
        (ids[2], "marketing", "regular", True, "US"),
    }  # fmt: skip
