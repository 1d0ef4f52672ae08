"""The in-flight mark, per send, committed just before that send's POST.

A row with ``send_started_at`` set is *in doubt* after a crash: it may have reached
Meta, so it is never sent again, only reconciled from its status webhook. Marking a
whole batch before its paced POSTs would leave the batch's later rows in doubt although
they never left; marking each send as its own POST starts leaves in doubt exactly the
sends that may have reached Meta, and a dead dispatcher's other rows go back to the
queue when its (short) lease runs out.

One commit per send would cap an unpaced dispatcher at the database's commit rate, so
marks that coincide share one statement (group commit): whoever asks while a mark is
being written joins the next one.
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
        self._waiting: list[tuple[Send, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def mark(self, send: Send) -> bool:
        """Mark ``send`` in flight; False when it may not go (changed since the claim,
        lease lost, expired). Raises when the mark could not be written: not sent."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((send, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    started = await self._mark([send for send, _ in group])
                except Exception as error:
                    for _, future in group:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for send, future in group:
                    if not future.done():
                        future.set_result(send.claimed.id in started)
        finally:
            self._writer = None
