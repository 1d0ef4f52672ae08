"""Sending to a business-scoped user ID: the ``recipient`` field and Meta's answer."""

from __future__ import annotations

import json

import pytest
from pytest_httpx import HTTPXMock

from tests.whatsapp.test_client import URL, make_client
from tripcast.whatsapp.messages import SendResult, TemplateMessage, TextMessage
from tripcast.whatsapp.phone import is_bsuid

pytestmark = pytest.mark.anyio

BSUID = "US.13491208655302741918"
ACCEPTED_BY_BSUID = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": BSUID, "user_id": BSUID}],
    "messages": [{"id": "wamid.B"}],
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (BSUID, True),
        ("BR.1502576394655843", True),
        ("US.ENT.11815799212886844830", True),
        ("351912345678", False),
        ("+351 912 345 678", False),
        ("us.123", False),
        ("US.", False),
        ("US.12 34", False),
    ],
)
def test_bsuids_are_told_apart_from_phone_numbers(value: str, expected: bool) -> None:
    assert is_bsuid(value) is expected


def test_a_bsuid_goes_in_recipient_and_a_number_in_to() -> None:
    text = TextMessage(body="hi").to_payload(BSUID)
    assert (text.get("recipient"), "to" in text) == (BSUID, False)
    template = TemplateMessage.build("trip_reminder", "en_US").to_payload("351912345678")
    assert (template.get("to"), "recipient" in template) == ("351912345678", False)


async def test_send_to_a_bsuid_posts_it_as_recipient_and_reads_meta_answer(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_response(method="POST", url=URL, json=ACCEPTED_BY_BSUID)
    async with make_client() as client:
        result = await client.send_text(BSUID, "Boa viagem", callback_data="m-1")
    assert (result.message_id, result.wa_id, result.user_id) == ("wamid.B", None, BSUID)
    sent = json.loads(httpx_mock.get_request().content)  # type: ignore[union-attr]
    assert sent["recipient"] == BSUID
    assert "to" not in sent


def test_an_answer_with_neither_wa_id_nor_user_id_is_not_a_send_result() -> None:
    with pytest.raises(ValueError, match="not a send result"):
        SendResult.from_response({"contacts": [{"input": "x"}], "messages": [{"id": "w"}]})
