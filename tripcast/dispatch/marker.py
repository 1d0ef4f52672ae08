"""The in-flight mark, committed just before the POSTs it covers.

A row with ``send_started_at`` set is *in doubt* after a crash: it may have reached
Meta, so it is never sent again, only reconciled from its status webhook. Marking a
whole batch before its POSTs would leave the batch's later rows in doubt although they
never left; so marks are taken as close to the POSTs as throughput allows, and a dead
dispatcher's unmarked rows go back to the queue when its (short) lease runs out:

- paced, each send is marked on its own just before its slot (``Sender``);
- unpaced, a batch is marked in waves of ``DispatchSettings.mark_wave`` sends, the next
  wave while the current one is launching, so no POST ever waits for a commit and a
  crash leaves in doubt at most the POSTs in flight and about two waves per lane.

One commit per send would cap a dispatcher at the database's commit rate, so marks that
coincide share one statement (group commit): whoever asks while a mark is being written
joins the next one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence

from tripcast.dispatch.message_plan import Send

MarkSends = Callable[[Sequence[Send]], Awaitable[set[uuid.UUID]]]


class Marker:
    def __init__(self, mark: MarkSends) -> None:
        self._mark = mark
        self._waiting: list[tuple[Sequence[Send], asyncio.Future[set[uuid.UUID]]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def mark(self, send: Send) -> bool:
        """Mark ``send`` in flight; False when it may not go (changed since the claim,
        lease lost, expired). Raises when the mark could not be written: not sent."""
        return send.claimed.id in await self.mark_all([send])

    async def mark_all(self, sends: Sequence[Send]) -> set[uuid.UUID]:
        """Mark ``sends`` in flight together; the ids that may go (see ``mark``)."""
        future: asyncio.Future[set[uuid.UUID]] = asyncio.get_running_loop().create_future()
        self._waiting.append((sends, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    started = await self._mark([send for sends, _ in group for send in sends])
                except Exception as error:
                    for _, future in group:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for _, future in group:
                    if not future.done():
                        future.set_result(started)
        finally:
            self._writer = None
