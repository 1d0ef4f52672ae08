"""A follower alone (no minute sweep) sends read receipts within seconds, and beside
another acknowledger (the sweep's) each receipt still goes once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy.engine import Connection, Engine

from tests.dispatch.builders import Traveller, make_traveller, queue_message
from tests.dispatch.live import config, rows
from tests.dispatch.test_follow import follower
from tripcast.conversations.acknowledge import acknowledge_answers
from tripcast.dispatch import utc_now
from tripcast.whatsapp.fake import FakeCloudApi

pytestmark = pytest.mark.integration


def inbound(connection: Connection, traveller: Traveller) -> str:
    """A message the traveller just wrote; its wamid."""
    wamid = f"wamid.IN{uuid.uuid4().hex[:16]}"
    connection.exec_driver_sql(
        "INSERT INTO whatsapp_messages (user_id, whatsapp_account_id, direction, "
        "message_type, content, external_id, status, delivered_at) VALUES (%(u)s, %(a)s, "
        "'inbound', 'text', 'Is the ferry on time?', %(wamid)s, 'delivered', now())",
        {"u": traveller.user, "a": traveller.account, "wamid": wamid},
    )
    return wamid


def test_a_follower_without_a_sweep_marks_an_answered_message_read_within_seconds(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    fake_api.reset(config(latency_seconds=0.0, enforce_service_window=False))
    with follower(engine, fake_api, [], poll_seconds=5.0):
        with engine.begin() as connection:
            traveller = make_traveller(connection, last_inbound_at=utc_now())
            wamid = inbound(connection, traveller)
            answer = queue_message(connection, traveller, content="On time, 14:05")
        committed = time.monotonic()
        while not fake_api.read_marks() or not fake_api.accepted_count(str(answer)):
            assert time.monotonic() - committed < 10, "no read receipt or no answer"
            time.sleep(0.02)
        took = time.monotonic() - committed
    # Woken by the answer's notification, not by the 5 s poll. (Whether the typing
    # indicator showed depends on whether the answer had left yet: not asserted.)
    assert took < 3.0, took
    assert [m["message_id"] for m in fake_api.read_marks()] == [wamid]
    (stored,) = rows(engine, "SELECT metadata, read_at FROM whatsapp_messages "
                     "WHERE external_id = %(wamid)s", wamid=wamid)  # fmt: skip
    assert stored["read_at"] is not None and "read_marked_at" in stored["metadata"]


def test_a_follower_and_sweeps_send_each_receipt_once(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    fake_api.reset(config(latency_seconds=0.0, enforce_service_window=False))
    with engine.begin() as connection:
        travellers = [make_traveller(connection, last_inbound_at=utc_now()) for _ in range(40)]
        wamids = {inbound(connection, traveller) for traveller in travellers}
    with follower(engine, fake_api, [], poll_seconds=1.0):
        with engine.begin() as connection:
            for traveller in travellers:
                queue_message(connection, traveller, content="Noted, see you at the port")
        asyncio.run(_sweep_receipts_until(engine, fake_api, count=len(wamids)))
    marked = Counter(m["message_id"] for m in fake_api.read_marks())
    assert set(marked) == wamids
    assert marked.most_common(1)[0][1] == 1, "a receipt was sent twice"


async def _sweep_receipts_until(engine: Engine, fake: FakeCloudApi, *, count: int) -> None:
    """Two sweeps' acknowledge steps at once, again and again, beside the follower: each
    yields to the other at every receipt it sends."""
    deadline = time.monotonic() + 30
    async with fake.client(timeout=2.0) as first, fake.client(timeout=2.0) as second:
        while len(fake.read_marks()) < count:
            assert time.monotonic() < deadline, "not every message was marked read"
            await asyncio.gather(
                acknowledge_answers(engine, first, now=utc_now()),
                acknowledge_answers(engine, second, now=utc_now()),
            )
