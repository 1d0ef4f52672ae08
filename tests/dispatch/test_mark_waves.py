"""Unpaced sends are marked in flight in waves, each committed before its POSTs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest

from tests.dispatch.test_pacing import RecordingClient, sends
from tripcast.dispatch.dispatcher import utc_now
from tripcast.dispatch.marker import Marker
from tripcast.dispatch.message_plan import Send
from tripcast.dispatch.sender import NotStarted, Sender

pytestmark = pytest.mark.anyio


class Ledger:
    """Stands in for the database's mark: notes each statement and when it committed."""

    def __init__(self, client: RecordingClient, *, refuse: set[uuid.UUID] | None = None) -> None:
        self.client = client
        self.refuse = refuse or set()
        self.statements: list[list[uuid.UUID]] = []
        self.committed_at: dict[uuid.UUID, float] = {}
        self.fail_from: int | None = None  # the statement from which marks fail

    async def mark(self, group: Sequence[Send]) -> set[uuid.UUID]:
        ids = [send.claimed.id for send in group]
        self.statements.append(ids)
        await asyncio.sleep(0.01)
        if self.fail_from is not None and len(self.statements) > self.fail_from:
            raise ConnectionError("the database went away")
        moment = asyncio.get_running_loop().time()
        self.committed_at |= dict.fromkeys(ids, moment)
        return set(ids) - self.refuse


def wave_sender(ledger: Ledger, *, wave: int, in_flight: int = 4) -> Sender:
    sender = Sender(ledger.client, max_in_flight=in_flight, now_fn=utc_now,  # type: ignore[arg-type]
                    marker=Marker(ledger.mark), mark_wave=wave)  # fmt: skip
    return sender


async def test_each_wave_is_marked_in_one_statement_before_its_first_post() -> None:
    client = RecordingClient()
    ledger = Ledger(client)
    batch = sends(10)
    launched = await wave_sender(ledger, wave=4).send_batch(batch, None, generation=0)

    assert (len(launched.posted), launched.unposted, launched.halted) == (10, [], None)
    ids = [send.claimed.id for send in batch]
    assert ledger.statements == [ids[0:4], ids[4:8], ids[8:10]]
    posted = {item.send.claimed.id: index for index, item in enumerate(launched.posted)}
    for send_id, started in zip(ids, sorted(client.started), strict=True):
        assert ledger.committed_at[send_id] <= started
    assert list(posted) == ids


async def test_a_send_its_mark_refused_is_not_posted() -> None:
    client = RecordingClient()
    batch = sends(5)
    ledger = Ledger(client, refuse={batch[1].claimed.id})
    launched = await wave_sender(ledger, wave=3).send_batch(batch, None, generation=0)

    refused = [item for item in launched.posted if isinstance(item.result, NotStarted)]
    assert [item.send for item in refused] == [batch[1]]
    assert len(client.started) == 4


async def test_when_a_mark_fails_the_rest_of_the_batch_is_handed_back_unsent() -> None:
    client = RecordingClient()
    ledger = Ledger(client)
    ledger.fail_from = 1  # the first wave's mark commits, the second's fails
    batch = sends(6)
    launched = await wave_sender(ledger, wave=3).send_batch(batch, None, generation=0)

    assert launched.halted == "mark failed"
    assert [item.send for item in launched.posted] == batch[:3]
    assert launched.unposted == batch[3:]
    assert len(client.started) == 3
