"""Pair-rate spacing: one message per recipient per spacing, decided without I/O."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.dispatch.conftest import NOW
from tripcast.dispatch.message_plan import Claimed, Send
from tripcast.dispatch.spacing import RecipientSpacing
from tripcast.whatsapp.messages import TextMessage


def send_to(phone: str) -> Send:
    claimed = Claimed(uuid.uuid4(), uuid.uuid4(), "text", "hi", {}, 0, phone, "opted_in",
                      None, None)  # fmt: skip
    return Send(claimed, TextMessage(body="hi"), "text")


def spacing() -> RecipientSpacing:
    return RecipientSpacing(spacing=timedelta(seconds=6), batch_span=timedelta(seconds=2))


def test_one_message_per_recipient_goes_and_the_others_wait_for_the_spacing() -> None:
    pairs = spacing()
    # Two notations of one number are one recipient.
    first, again, other = (
        send_to("+351 912 345 678"),
        send_to("351912345678"),
        send_to("+351 912 345 679"),
    )
    ready, held = pairs.split([first, again, other], now=NOW)
    assert ready == [first, other]
    assert held == [(again, NOW + timedelta(seconds=8))]
    ready, held = pairs.split([again], now=NOW + timedelta(seconds=7))
    assert (ready, [s for s, _ in held]) == ([], [again])
    ready, held = pairs.split([again], now=NOW + timedelta(seconds=8))
    assert (ready, held) == ([again], [])


def test_a_message_handed_back_unsent_does_not_wait_for_itself() -> None:
    pairs = spacing()
    late = send_to("351912345678")
    assert pairs.split([late], now=NOW) == ([late], [])
    assert pairs.split([late], now=NOW + timedelta(seconds=1)) == ([late], [])
