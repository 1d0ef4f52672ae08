"""The shared schedule as a dispatcher uses it: reserve slots, send at them, pause.

Slots come from ``send_pacing`` (GCRA, see ``sql.RESERVE_SLOTS``) and are turned into
times on this process's monotonic clock. A batch whose launches fall too far behind
its slots gives the rest up and reserves fresh ones, a few times at most; whatever is
still unsent then goes back to the queue without using an attempt.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from sqlalchemy.engine import Engine

from tripcast.dispatch import store
from tripcast.dispatch.message_plan import Send
from tripcast.dispatch.sender import THROTTLING, Launched, Posted, Sender, Slots
from tripcast.dispatch.tuning import DispatchSettings

RESERVATIONS_PER_BATCH = 3


class Pacer:
    def __init__(
        self,
        engine: Engine,
        sender: Sender,
        settings: DispatchSettings,
        *,
        phone_number_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.sender = sender
        self.settings = settings
        # Each business number has a schedule of its own (its rate in ``settings``).
        self._phone_number_id = phone_number_id

    @property
    def phone_number_id(self) -> str:
        return self._phone_number_id or self.sender.client.phone_number_id

    async def reserve(self, count: int) -> Slots | None:
        """Slots for ``count`` sends (None when unpaced); the first is ``slot_lead`` away
        at least, time enough to mark its row in flight before it."""
        interval = self.settings.send_interval
        if interval == 0:
            return None
        first_in, at = await asyncio.to_thread(self._reserve_now, count * interval)
        return Slots(start=at + first_in, interval=interval)

    def _reserve_now(self, span: float) -> tuple[float, float]:
        with self.engine.begin() as connection:
            first_in = store.reserve_slots(
                connection,
                phone_number_id=self.phone_number_id,
                span=span,
                lead=self.settings.slot_lead,
            )
        # Read the local clock after the commit: any delay only moves our slots later.
        return first_in, time.monotonic()

    async def send(
        self, sends: list[Send], slots: Slots | None, *, generation: int
    ) -> tuple[list[Posted], Launched]:
        """Send at ``slots``; when too late for them, at fresh ones. All POSTs made, and
        how the last launch ended, with the stragglers of every launch."""
        posted: list[Posted] = []
        stragglers: list[asyncio.Task[Posted]] = []
        for _ in range(RESERVATIONS_PER_BATCH):
            launched = await self.sender.send_batch(
                sends,
                slots,
                generation=generation,
                max_lateness=self.settings.max_lateness,
                record_after=self.settings.record_after,
            )
            posted.extend(launched.posted)
            stragglers.extend(launched.stragglers)
            if launched.halted != "late":
                break
            sends = launched.unposted
            slots = await self.reserve(len(sends))
        hints = [item.result.wait_hint_seconds for item in posted
                 if isinstance(item.result, THROTTLING)]  # fmt: skip
        if hints:
            await asyncio.to_thread(self._pause, max(hints))
        return posted, replace(launched, stragglers=stragglers)

    def _pause(self, seconds: float) -> None:
        """After a throttling refusal nobody sends on this number for its wait hint."""
        with self.engine.begin() as connection:
            store.push_schedule(connection, phone_number_id=self.phone_number_id, pause=seconds)
