"""The portfolio's messaging limit: templates to new users past the tier wait."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE, message
from tests.dispatch.conftest import NOW, Clock
from tests.dispatch.mock_api import accept_all, dispatch, queued, traveller
from tripcast.models.senders import WhatsAppSenderCreate
from tripcast.senders.registry import add_sender

pytestmark = pytest.mark.anyio


def accept(httpx_mock: HTTPXMock) -> None:
    accept_all(httpx_mock, url=None)  # from any of the senders' numbers


def tier(engine: Engine, name: str) -> None:
    with engine.begin() as connection:
        add_sender(
            connection,
            WhatsAppSenderCreate(phone_number_id="1234567890", messaging_limit_tier=name),
        )


def sent_earlier(engine: Engine, who: object, *, ago: timedelta) -> None:
    queued(
        engine,
        who,
        message_type="template",
        metadata={"template": TEMPLATE},
        status="sent",
        sent_at=NOW - ago,
        send_started_at=NOW - ago,
    )


async def test_new_users_past_the_tier_wait_by_priority_reached_ones_go(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept(httpx_mock)
    tier(engine, "TIER_50")
    reached = [traveller(engine, last_inbound_at=None) for _ in range(49)]
    for index, who in enumerate(reached):
        sent_earlier(engine, who, ago=timedelta(hours=23, minutes=index))
    template = {"template": TEMPLATE}
    again = queued(engine, reached[0], message_type="template", metadata=template)
    promo_to = traveller(engine, last_inbound_at=None, marketing=True)
    notice_to = traveller(engine, last_inbound_at=None)
    promo = queued(engine, promo_to, message_type="template",
                   metadata={**template, "category": "marketing"})  # fmt: skip
    notice = queued(engine, notice_to, message_type="template",
                    metadata={**template, "category": "utility"})  # fmt: skip

    await dispatch(engine, clock)

    # One new user fits under 50: the utility notice goes before marketing.
    assert message(engine, notice)["status"] == "sent"
    assert message(engine, again)["status"] == "sent"  # reached already: costs nothing
    held = message(engine, promo)
    assert (held["status"], held["retry_count"], held["failed_reason"]) == ("pending", 0, None)
    # Due again when the oldest reach (23 h 48 min ago) leaves the 24-hour window.
    assert held["next_attempt_at"] == NOW + timedelta(minutes=12)


async def test_without_a_tier_nothing_is_held(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept(httpx_mock)
    tier(engine, "TIER_UNLIMITED")
    ids = [
        queued(
            engine,
            traveller(engine, last_inbound_at=None),
            message_type="template",
            metadata={"template": TEMPLATE},
        )
        for _ in range(3)
    ]
    await dispatch(engine, clock)
    assert [message(engine, i)["status"] for i in ids] == ["sent"] * 3
