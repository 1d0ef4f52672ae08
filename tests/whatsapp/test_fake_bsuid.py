"""The fake's business-scoped user IDs: in its webhooks, for usernames, and as recipients."""

from __future__ import annotations

import pytest

from tests.whatsapp.receiver import WebhookReceiver
from tripcast.whatsapp.api_errors import WhatsAppError
from tripcast.whatsapp.fake import FakeCloudApi
from tripcast.whatsapp.fake.config import FakeCloudApiConfig
from tripcast.whatsapp.fake.identity import bsuid_for, hides_number, wa_id_for
from tripcast.whatsapp.webhook import iter_inbound_messages, iter_statuses, parse_webhook

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

ANA, BEA = "351912345671", "351912345672"


def test_bsuids_decode_back_to_their_number_and_others_do_not() -> None:
    bsuid = bsuid_for(ANA)
    assert bsuid.startswith("PT.")
    assert wa_id_for(bsuid) == ANA
    assert wa_id_for("PT.12345") is None
    assert wa_id_for("351912345671") is None


def test_a_configured_share_of_travellers_hides_the_number() -> None:
    numbers = [f"3519123{n:05d}" for n in range(2000)]
    config = FakeCloudApiConfig(username_share=0.25)
    share = sum(hides_number(config, n) for n in numbers) / len(numbers)
    assert 0.2 < share < 0.3
    assert not any(hides_number(FakeCloudApiConfig(), n) for n in numbers)


async def test_inbound_carries_the_bsuid_and_withholds_a_username_holders_number(
    fake: FakeCloudApi, receiver: WebhookReceiver
) -> None:
    fake.set_config(webhook_url=receiver.url, username_numbers=[BEA])
    fake.send_inbound(ANA, "hello")
    fake.send_inbound(BEA, "STOP")
    assert fake.wait_for_webhooks()["updates_delivered"] == 2
    bodies = [parse_webhook(d.body) for d in receiver.deliveries]
    senders = {m.text.body: (m.sender, m.sender_user_id) for b in bodies  # type: ignore[union-attr]
               for m in iter_inbound_messages(b)}  # fmt: skip
    assert senders == {"hello": (ANA, bsuid_for(ANA)), "STOP": (None, bsuid_for(BEA))}
    contacts = [c for b in bodies for v in b.message_values() for c in v.contacts]
    by_bsuid = {c.user_id: (c.wa_id, c.username) for c in contacts}
    assert by_bsuid[bsuid_for(BEA)] == (None, "traveller.5672")
    assert by_bsuid[bsuid_for(ANA)] == (ANA, None)


async def test_a_send_to_a_bsuid_is_accepted_and_its_statuses_name_the_bsuid(
    fake: FakeCloudApi, receiver: WebhookReceiver
) -> None:
    fake.set_config(webhook_url=receiver.url, username_numbers=[BEA], webhook_statuses=["sent"])
    fake.send_inbound(BEA, "hi")  # opens the 24 h window for text
    fake.send_inbound(ANA, "hi")
    async with fake.client() as client:
        by_bsuid = await client.send_text(bsuid_for(BEA), "Boa viagem", callback_data="m-1")
        by_number = await client.send_text(ANA, "Boa viagem", callback_data="m-2")
    assert (by_bsuid.user_id, by_bsuid.wa_id) == (bsuid_for(BEA), None)
    assert by_number.wa_id == ANA
    fake.wait_for_webhooks()
    statuses = {
        s.biz_opaque_callback_data: (s.recipient_id, s.recipient_user_id)
        for d in receiver.deliveries
        for s in iter_statuses(parse_webhook(d.body))
    }
    assert statuses == {"m-1": (None, bsuid_for(BEA)), "m-2": (ANA, bsuid_for(ANA))}


async def test_a_recipient_that_is_not_a_known_bsuid_is_refused(fake: FakeCloudApi) -> None:
    async with fake.client() as client:
        with pytest.raises(Exception, match="recipient must be a business-scoped user ID"):
            await client.send_text("PT.12345", "hi")
    assert fake.state()["refusals"] == {"100": 1}


@pytest.mark.parametrize(
    ("code", "family", "http_status"),
    [
        (131049, "marketing_limit", 400),
        (130472, "experiment", 400),
        (131053, "media", 400),
        (131008, "parameter", 400),
        (131009, "parameter", 400),
        (131037, "account", 400),
        (131045, "account", 400),
        (131042, "payment", 400),
        (368, "account", 403),
        (133010, "not_registered", 400),
    ],
)
async def test_each_new_meta_code_is_injectable_and_classified(
    fake: FakeCloudApi, code: int, family: str, http_status: int
) -> None:
    fake.script_faults(code)
    async with fake.client() as client:
        with pytest.raises(WhatsAppError) as caught:
            await client.send_text(ANA, "hi")
    error = caught.value
    assert (error.code, error.family, error.http_status) == (code, family, http_status)
    assert error.details  # Meta's error_data.details, as documented


async def test_statuses_carry_contacts_with_the_username_on_delivered_and_read(
    fake: FakeCloudApi, receiver: WebhookReceiver
) -> None:
    fake.set_config(webhook_url=receiver.url, username_numbers=[BEA], enforce_service_window=False)
    async with fake.client() as client:
        await client.send_text(BEA, "Boa viagem")
    fake.wait_for_webhooks()
    contacts = [
        (c.wa_id, c.user_id, c.username)
        for d in receiver.deliveries
        for v in parse_webhook(d.body).message_values()
        for c in v.contacts
    ]
    assert (BEA, bsuid_for(BEA), None) in contacts  # sent: no username yet
    assert (BEA, bsuid_for(BEA), "traveller.5672") in contacts  # delivered, read
