"""Pacing: the arithmetic of the margin, launches at slots, late launches re-slotted."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tripcast.dispatch import store
from tripcast.dispatch.dispatcher import utc_now
from tripcast.dispatch.message_plan import Claimed, Send
from tripcast.dispatch.pacing import Pacer
from tripcast.dispatch.sender import Sender, Slots
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.whatsapp.messages import SendResult, TextMessage

pytestmark = pytest.mark.anyio


class RecordingClient:
    """Stands in for WhatsAppClient: accepts at once, notes when each send started."""

    phone_number_id = "100"

    def __init__(self) -> None:
        self.started: list[float] = []

    async def send(self, message: Any, to: str) -> SendResult:
        self.started.append(asyncio.get_running_loop().time())
        return SendResult(wa_id=to, input=to, message_id=f"wamid.{len(self.started)}")


def sends(count: int) -> list[Send]:
    planned = []
    for _ in range(count):
        claimed = Claimed(uuid.uuid4(), uuid.uuid4(), "text", "hi", {}, 0, "351912345678",
                          "opted_in", None, None)  # fmt: skip
        planned.append(Send(claimed, TextMessage(body="hi"), "text"))
    return planned


@pytest.mark.parametrize(
    ("rate", "paced", "interval"), [(20, 18.0, 1 / 18), (80.5, 72.0, 1 / 72), (0.5, 0.45, 1 / 0.45)]
)
def test_the_schedule_runs_at_the_limit_less_the_margin(
    rate: float, paced: float, interval: float
) -> None:
    settings = DispatchSettings(send_rate=rate, rate_margin=0.1)
    assert settings.paced_rate == pytest.approx(paced)
    assert settings.send_interval == pytest.approx(interval)
    # r' (1 + 2 * max_lateness) = the whole limit: half the slack is ours to use.
    assert paced * (1 + 2 * settings.max_lateness) == pytest.approx(paced / 0.9)


def test_the_margin_comes_from_the_settings() -> None:
    configured = SimpleNamespace(send_rate=50.0, send_rate_margin=0.2)
    settings = DispatchSettings.from_settings(configured)
    assert (settings.rate_margin, settings.paced_rate) == (0.2, pytest.approx(40.0))
    assert DispatchSettings().rate_margin == 0.04


def test_a_slow_rate_claims_small_batches() -> None:
    assert DispatchSettings(send_rate=20, rate_margin=0.1, batch_seconds=2).claim_limit(500) == 36
    assert DispatchSettings(send_rate=None).claim_limit(500) == 500


async def test_launches_keep_to_their_slots() -> None:
    client = RecordingClient()
    sender = Sender(client, max_in_flight=10, now_fn=utc_now)  # type: ignore[arg-type]
    start = asyncio.get_running_loop().time() + 0.05
    launched = await sender.send_batch(sends(5), Slots(start, 0.02), generation=0)
    assert (len(launched.posted), launched.halted) == (5, None)
    for index, moment in enumerate(client.started):
        assert moment >= start + index * 0.02


async def test_a_launch_too_late_for_its_slot_is_not_made() -> None:
    client = RecordingClient()
    sender = Sender(client, max_in_flight=10, now_fn=utc_now)  # type: ignore[arg-type]
    past = asyncio.get_running_loop().time() - 1.0
    launched = await sender.send_batch(sends(3), Slots(past, 0.01), generation=0,
                                       max_lateness=0.05)  # fmt: skip
    assert (launched.posted, len(launched.unposted), launched.halted) == ([], 3, "late")
    assert client.started == []


class StallingClient(RecordingClient):
    """Blocks the event loop (as a busy machine would) while starting its third send."""

    async def send(self, message: Any, to: str) -> SendResult:
        result = await super().send(message, to)
        if len(self.started) == 3:
            time.sleep(0.2)  # noqa: ASYNC251 - the stall is the point
        return result


async def test_a_stall_costs_the_slots_it_passed_and_no_more() -> None:
    client = StallingClient()
    sender = Sender(client, max_in_flight=20, now_fn=utc_now)  # type: ignore[arg-type]
    start = asyncio.get_running_loop().time() + 0.05
    interval, lateness = 0.05, 0.01
    launched = await sender.send_batch(sends(12), Slots(start, interval), generation=0,
                                       max_lateness=lateness)  # fmt: skip
    # Before the stall, one slot each; after it, the slots it passed are skipped, the
    # sends go on at the later ones, and only those left without a slot come back.
    assert 3 < len(launched.posted) < 12
    assert (len(launched.posted) + len(launched.unposted), launched.halted) == (12, "late")
    taken = [math.floor((moment - start) / interval + 1e-9) for moment in client.started]
    assert taken[:3] == [0, 1, 2]
    assert taken[3] > 3
    assert taken == sorted(set(taken))
    assert taken[-1] < 12
    for slot, moment in zip(taken, client.started, strict=True):
        assert 0 <= moment - (start + slot * interval) <= lateness + 0.01


async def test_late_sends_go_at_fresh_slots_of_the_shared_schedule(engine: Engine) -> None:
    client = RecordingClient()
    sender = Sender(client, max_in_flight=10, now_fn=utc_now)  # type: ignore[arg-type]
    settings = DispatchSettings(send_rate=50)
    pacer = Pacer(engine, sender, settings)
    called_at = asyncio.get_running_loop().time()
    stale = Slots(called_at - 1.0, settings.send_interval)

    posted, launched = await pacer.send(sends(4), stale, generation=0)

    assert (len(posted), launched.halted) == (4, None)
    # Fresh slots, a lead ahead: nothing went out at the stale ones.
    assert client.started[0] >= called_at + settings.slot_lead - 0.005
    spread = client.started[-1] - client.started[0]
    assert spread >= 3 * settings.send_interval - settings.max_lateness
    with engine.connect() as connection:
        reserved = connection.exec_driver_sql(
            "SELECT next_slot_at - updated_at FROM send_pacing WHERE phone_number_id = '100'"
        ).scalar_one()
    assert reserved.total_seconds() == pytest.approx(
        settings.slot_lead + 4 * settings.send_interval, abs=0.01
    )


def test_an_idle_schedule_starts_a_lead_ahead_and_a_busy_one_at_its_end(engine: Engine) -> None:
    with engine.begin() as connection:
        first = store.reserve_slots(connection, phone_number_id="7", span=2.0, lead=0.5)
        second = store.reserve_slots(connection, phone_number_id="7", span=1.0, lead=0.5)
    assert first == pytest.approx(0.5, abs=0.01)
    assert second == pytest.approx(2.5, abs=0.05)
