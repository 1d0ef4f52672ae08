"""Dispatch routes each message to a business number, judges the window per number,
and holds a paused number's messages (pytest-httpx stands in for the Cloud API)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE, Traveller, message
from tests.dispatch.conftest import NOW, Clock
from tests.dispatch.mock_api import accept_all, dispatch, queued, traveller
from tripcast.models.senders import WhatsAppSenderCreate
from tripcast.senders.registry import add_sender, set_status

pytestmark = pytest.mark.anyio

DEFAULT = "1234567890"  # the mocked client's own number
PORTUGAL = "2002"
AMERICAS = "3003"


def accept_any(httpx_mock: HTTPXMock) -> None:
    accept_all(httpx_mock, url=None)  # from any of the senders' numbers


def from_numbers(httpx_mock: HTTPXMock) -> dict[str, str]:
    """Recipient -> the phone number id in the URL it was posted to."""
    return {
        json.loads(r.content)["to"]: r.url.path.split("/")[2] for r in httpx_mock.get_requests()
    }


@pytest.fixture
def senders(engine: Engine) -> Engine:
    with engine.begin() as connection:
        add_sender(connection, WhatsAppSenderCreate(phone_number_id=DEFAULT))
        add_sender(connection, WhatsAppSenderCreate(phone_number_id=PORTUGAL, markets=["PT"]))
        add_sender(connection, WhatsAppSenderCreate(phone_number_id=AMERICAS, markets=["1"]))
    return engine


def inbound(engine: Engine, who: Traveller, *, to: str | None, ago: timedelta) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO whatsapp_messages (user_id, whatsapp_account_id, direction, "
            "message_type, content, status, delivered_at, sender_phone_number_id) "
            "VALUES (%(u)s, %(a)s, 'inbound', 'text', 'hi', 'delivered', %(at)s, %(to)s)",
            {"u": who.user_id, "a": who.account_id, "at": NOW - ago, "to": to},
        )


def templated(engine: Engine, who: Traveller, **metadata: str) -> Any:
    return queued(engine, who, message_type="template", metadata={"template": TEMPLATE, **metadata})


async def test_country_override_and_default(
    senders: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_any(httpx_mock)
    lisbon = traveller(senders, phone="351912000101")
    boston = traveller(senders, phone="16175550123")
    madrid = traveller(senders, phone="34612345678")
    chosen = traveller(senders, phone="351912000102")
    # Templates: the travellers' open window is the default number's alone.
    ids = {
        lisbon.phone: templated(senders, lisbon),
        boston.phone: templated(senders, boston),
        madrid.phone: templated(senders, madrid),
        chosen.phone: templated(senders, chosen, sender=AMERICAS),
    }
    await dispatch(senders, clock)
    expected = {
        lisbon.phone: PORTUGAL,
        boston.phone: AMERICAS,
        madrid.phone: DEFAULT,
        chosen.phone: AMERICAS,
    }
    assert from_numbers(httpx_mock) == expected
    for phone, message_id in ids.items():
        row = message(senders, message_id)
        assert (row["status"], row["sender_phone_number_id"]) == ("sent", expected[phone])


async def test_an_unknown_override_is_refused_by_name(
    senders: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    who = traveller(senders)
    message_id = queued(senders, who, metadata={"sender": "999"})
    await dispatch(senders, clock)
    row = message(senders, message_id)
    assert (row["status"], row["failed_reason"]) == (
        "failed",
        "unknown sender 999 in metadata.sender",
    )
    assert httpx_mock.get_requests() == []


async def test_a_traveller_stays_on_the_number_that_last_talked_with_them(
    senders: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_any(httpx_mock)
    who = traveller(senders, phone="351912000103")  # Portugal, but wrote to the default
    inbound(senders, who, to=DEFAULT, ago=timedelta(hours=2))
    message_id = queued(senders, who)
    await dispatch(senders, clock)
    assert from_numbers(httpx_mock) == {who.phone: DEFAULT}
    assert message(senders, message_id)["sender_phone_number_id"] == DEFAULT


async def test_the_window_is_judged_per_number(
    senders: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_any(httpx_mock)
    who = traveller(senders, phone="351912000104")
    inbound(senders, who, to=DEFAULT, ago=timedelta(hours=1))
    # Free text from the Portuguese number: no window there, whatever the default has.
    message_id = queued(senders, who, metadata={"sender": PORTUGAL})
    await dispatch(senders, clock)
    row = message(senders, message_id)
    assert (row["status"], row["failed_reason"]) == (
        "failed",
        "outside 24h window and no template",
    )
    assert httpx_mock.get_requests() == []


async def test_a_paused_numbers_messages_wait_then_go_after_resume(
    senders: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_any(httpx_mock)
    with senders.begin() as connection:
        set_status(connection, PORTUGAL, status="paused", reason="review", now=NOW)
    lisbon = traveller(senders, phone="351912000105")
    madrid = traveller(senders, phone="34612345679")
    held = templated(senders, lisbon)
    sent = queued(senders, madrid)
    await dispatch(senders, clock)
    row = message(senders, held)
    assert (row["status"], row["retry_count"], row["failed_reason"]) == ("pending", 0, None)
    assert row["next_attempt_at"] == NOW + timedelta(seconds=60)
    assert message(senders, sent)["status"] == "sent"
    assert from_numbers(httpx_mock) == {madrid.phone: DEFAULT}
    with senders.begin() as connection:
        set_status(connection, PORTUGAL, status="active", reason=None, now=NOW)
    clock.advance(seconds=61)
    await dispatch(senders, clock)
    assert message(senders, held)["status"] == "sent"
    assert from_numbers(httpx_mock)[lisbon.phone] == PORTUGAL


async def test_red_quality_holds_marketing_only(
    senders: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_any(httpx_mock)
    with senders.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE whatsapp_senders SET quality_rating = 'RED' WHERE phone_number_id = %(id)s",
            {"id": PORTUGAL},
        )
    who = traveller(senders, phone="351912000106", marketing=True)
    promo = templated(senders, who, category="marketing")
    notice = templated(senders, who, category="utility")
    await dispatch(senders, clock)
    assert message(senders, promo)["status"] == "pending"
    assert message(senders, notice)["status"] == "sent"
