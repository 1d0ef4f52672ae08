"""Over loopback: dispatch sends from two numbers of the fake Cloud API; the fake flags
one (a signed ``phone_number_quality_update`` through the real receiver and ingest), and
that number's marketing then waits while the other's goes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE, make_traveller, message, queue_message
from tests.support.net import wait_until
from tests.webhooks.conftest import APP_SECRET
from tripcast.dispatch import DispatchSettings, dispatch_pending
from tripcast.models.senders import WhatsAppSenderCreate
from tripcast.senders.registry import add_sender, load_senders
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver
from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig

pytestmark = pytest.mark.integration

PORTUGAL = "200000000000002"


def dispatch(engine: Engine, fake: FakeCloudApi, now: datetime) -> None:
    async def run() -> None:
        async with fake.client() as client:
            settings = DispatchSettings(send_rate=None, lanes=1)
            await dispatch_pending(engine, client=client, settings=settings, now_fn=lambda: now)

    asyncio.run(run())


def quality(engine: Engine) -> str:
    with engine.connect() as connection:
        return load_senders(connection)[PORTUGAL].quality_rating


def test_two_numbers_then_one_flagged_holds_its_marketing(
    configured: Engine, fake_whatsapp: FakeCloudApi, receiver: BackgroundReceiver
) -> None:
    engine, fake = configured, fake_whatsapp
    fake.reset(
        FakeCloudApiConfig(
            latency_seconds=0,
            webhook_url=receiver.url,
            app_secret=APP_SECRET,
            webhook_flush_seconds=0.01,
            enforce_service_window=False,
        )
    )
    with engine.begin() as connection:
        add_sender(connection, WhatsAppSenderCreate(phone_number_id=fake.phone_number_id))
        add_sender(
            connection,
            WhatsAppSenderCreate(
                phone_number_id=PORTUGAL, markets=["PT"], display_number="+351 210 000 001"
            ),
        )
        lisbon = make_traveller(connection, phone="351912000301", marketing=True)
        madrid = make_traveller(connection, phone="34612345601", marketing=True)

        def promo(who: object) -> object:
            metadata = {"template": TEMPLATE, "category": "marketing"}
            return queue_message(connection, who, message_type="template", metadata=metadata)

        first = [promo(lisbon), promo(madrid)]
    now = datetime.now(UTC)
    dispatch(engine, fake, now)
    assert [message(engine, m)["sender_phone_number_id"] for m in first] == [
        PORTUGAL,
        fake.phone_number_id,
    ]
    assert fake.histogram(phone_number_id=PORTUGAL)["max_in_1s"] == 1

    fake.sender_event(
        "quality", display_phone_number="351210000001", event="FLAGGED", current_limit="TIER_2K"
    )
    fake.wait_for_webhooks()
    wait_until(lambda: (drain(engine, now=now), quality(engine))[1] == "RED")
    with engine.begin() as connection:
        # Other travellers: Meta's pair rate would refuse a second message this soon.
        porto = make_traveller(connection, phone="351912000302", marketing=True)
        sevilla = make_traveller(connection, phone="34612345602", marketing=True)
        held, sent = promo(porto), promo(sevilla)
    dispatch(engine, fake, now)
    assert message(engine, held)["status"] == "pending"
    assert message(engine, sent)["status"] == "sent"
