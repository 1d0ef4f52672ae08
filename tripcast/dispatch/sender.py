"""Concurrent POSTs, each at or after its slot of the shared schedule.

One launcher per batch walks the sends in slot order: it waits until ``mark_lead``
before the slot, then for room under the in-flight limit, then starts the send's task,
which marks the row in flight (``marker``), waits for the slot and POSTs. Launches are
therefore never earlier than their slot nor out of order, so one batch can never burst;
the in-flight limit only ever delays a launch. Unpaced (no slots), the launcher marks
the batch in waves instead, each committed before the first of its POSTs and while the
wave before it is launching, so room in flight never waits for a commit. Every lane of
a dispatcher shares one ``Sender``: one connection pool, one in-flight limit, one stop
signal.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tripcast.dispatch.marker import Marker
from tripcast.dispatch.message_plan import Send
from tripcast.whatsapp.api_errors import (
    CallLimitError,
    NetworkError,
    ThroughputLimitError,
    WhatsAppError,
)
from tripcast.whatsapp.client import WhatsAppClient
from tripcast.whatsapp.messages import SendResult

# Refusals that say the whole number (or app) is over a limit right now: sending more
# only earns more of them, so everyone pauses for the error's wait hint.
THROTTLING = (ThroughputLimitError, CallLimitError)
log = logging.getLogger("tripcast.dispatch")


@dataclass(frozen=True)
class Slots:
    """Send slots on the event loop's clock: ``start``, ``start + interval``, ..."""

    start: float
    interval: float

    def at(self, index: int) -> float:
        return self.start + index * self.interval

    def first_at_or_after(self, moment: float) -> int:
        if self.interval == 0:
            return 0
        return max(0, math.ceil((moment - self.start) / self.interval))


@dataclass(frozen=True)
class NotStarted:
    """A send whose POST never started: refused by its in-flight mark, or too late."""

    reason: str


@dataclass(frozen=True)
class Posted:
    send: Send
    result: SendResult | BaseException | NotStarted
    at: datetime


@dataclass(frozen=True)
class Launched:
    """What a batch launch did: POSTs made, sends not made, and why it stopped early."""

    posted: list[Posted]
    unposted: list[Send]
    # None, "stopped" (cannot send), "throttled" (130429...), "late", "shutdown",
    # "mark failed" (the database refused the in-flight mark)
    halted: str | None
    # POSTs still unanswered ``record_after`` seconds after the last launch: each ends
    # within the client's request deadline, and is recorded apart from the batch.
    stragglers: list[asyncio.Task[Posted]] = field(default_factory=list)


async def sleep_until(moment: float) -> None:
    delay = moment - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)


class Sender:
    def __init__(
        self,
        client: WhatsAppClient,
        *,
        max_in_flight: int,
        now_fn: Callable[[], datetime],
        marker: Marker | None = None,
        mark_lead: float = 0.0,
        mark_wave: int = 100,
    ) -> None:
        self.client = client
        self.now_fn = now_fn
        self.marker = marker  # None: nothing to mark (the client alone, in tests)
        self.mark_lead = mark_lead if marker is not None else 0.0
        self.mark_wave = mark_wave
        self.closing = False  # set on shutdown: no new launches, in-flight POSTs finish
        self._room = asyncio.Semaphore(max_in_flight)
        # The account-wide error (190 ...) that stops every lane; None while sending.
        self.stopped_by: WhatsAppError | None = None
        # Bumped on each throttling refusal (130429, 4, 80007): batches scheduled before
        # it stop launching, because Meta says the number is over a limit right now.
        self.throttle_generation = 0
        self.throttle_seconds = 0.0  # the longest wait hint of those refusals
        # Told every POST's result (the senders' circuit breakers); None: nobody listens.
        self.observer: Callable[[Send, SendResult | BaseException], None] | None = None

    async def send_batch(
        self,
        sends: Sequence[Send],
        slots: Slots | None,
        *,
        generation: int,
        max_lateness: float = math.inf,
        record_after: float = math.inf,
    ) -> Launched:
        """POST ``sends`` in order, each at a slot of its own, stopping early when it must.

        A launch more than ``max_lateness`` after its slot is not made at that slot:
        catching up would crowd the sends of whoever holds the next slots. It takes the
        first of the batch's later slots still in reach instead, and the slots passed
        stay unused, so a stall of the event loop costs the time it lasted and no more.
        Sends left without a slot are handed back (``halted = "late"``) for fresh ones.
        Answers still awaited ``record_after`` seconds after the last launch are handed
        back as ``stragglers``, so one slow answer does not hold the batch's record.
        """
        if slots is None and self.marker is not None:
            tasks, halted = await self._launch_waves(sends, generation=generation)
        else:
            tasks, halted = await self._launch_at(
                sends, slots, generation=generation, max_lateness=max_lateness
            )
        unposted = list(sends[len(tasks) :])
        if not tasks:
            return Launched([], unposted, halted)
        timeout = None if math.isinf(record_after) else record_after
        try:
            await asyncio.wait(tasks, timeout=timeout)
        except asyncio.CancelledError:
            for task in tasks:  # like gather: no POST outlives its batch
                task.cancel()
            raise
        posted = [task.result() for task in tasks if task.done()]
        stragglers = [task for task in tasks if not task.done()]
        return Launched(posted, unposted, halted, stragglers)

    async def _launch_at(
        self, sends: Sequence[Send], slots: Slots | None, *, generation: int, max_lateness: float
    ) -> tuple[list[asyncio.Task[Posted]], str | None]:
        """Start each send's mark-and-POST at its slot, in order, while allowed."""
        tasks: list[asyncio.Task[Posted]] = []
        halted: str | None = None
        slot = 0
        for send in sends:
            halted, slot = await self._wait_turn(
                slots, slot, count=len(sends), generation=generation, max_lateness=max_lateness
            )
            if halted is not None:
                break
            at = None if slots is None else slots.at(slot)
            tasks.append(asyncio.create_task(self._mark_and_post(send, at, max_lateness)))
            slot += 1
        return tasks, halted

    async def _launch_waves(
        self, sends: Sequence[Send], *, generation: int
    ) -> tuple[list[asyncio.Task[Posted]], str | None]:
        """Unpaced: mark a wave, then start its POSTs as room frees up; the next wave is
        marked while this one launches. One task per send launched, in order."""
        assert self.marker is not None
        size = self.mark_wave
        waves = [sends[start : start + size] for start in range(0, len(sends), size)]
        tasks: list[asyncio.Task[Posted]] = []
        marking = asyncio.create_task(self.marker.mark_all(waves[0])) if waves else None
        halted: str | None = None
        try:
            for index, wave in enumerate(waves):
                assert marking is not None
                try:
                    allowed = await marking
                except Exception:
                    # Not written even after retries: this wave and the rest never
                    # leave, and go back to the queue with the batch's record.
                    log.exception("dispatch: in-flight mark failed; the rest of the batch waits")
                    return tasks, "mark failed"
                marking = None
                for position, send in enumerate(wave):
                    if position == len(wave) // 2 and index + 1 < len(waves):
                        marking = asyncio.create_task(self.marker.mark_all(waves[index + 1]))
                    halted, _ = await self._wait_turn(
                        None, 0, count=1, generation=generation, max_lateness=math.inf
                    )
                    if halted is not None:
                        return tasks, halted
                    tasks.append(asyncio.create_task(self._post_if(send, allowed)))
        finally:
            if marking is not None:
                # The next wave's rows go back as unsent: their mark must be written
                # before that record clears it, or they would stay in doubt.
                await asyncio.gather(marking, return_exceptions=True)
        return tasks, halted

    async def _post_if(self, send: Send, allowed: set[uuid.UUID]) -> Posted:
        """Holding room in flight: POST ``send`` if its wave's mark allowed it."""
        if send.claimed.id not in allowed:
            self._room.release()
            return Posted(send, NotStarted("changed before sending"), self.now_fn())
        return await self._post(send)

    async def _wait_turn(
        self, slots: Slots | None, slot: int, *, count: int, generation: int, max_lateness: float
    ) -> tuple[str | None, int]:
        """Wait for a slot in reach, then for room in flight: why not to launch, if so,
        and the slot taken. Returns holding room in flight only when launching."""
        if (halted := self._halted(generation)) is not None:
            return halted, slot
        if slots is None:
            await self._room.acquire()
            return self._released_if(self._halted(generation)), slot
        holding = False
        while slot < count:
            await sleep_until(slots.at(slot) - self.mark_lead)
            if not holding:
                await self._room.acquire()
                holding = True
            if (halted := self._halted(generation)) is not None:
                return self._released_if(halted), slot
            now = asyncio.get_running_loop().time()
            if now - (slots.at(slot) - self.mark_lead) <= max_lateness:
                return None, slot
            slot = max(slot + 1, slots.first_at_or_after(now - max_lateness))
        if holding:
            self._room.release()
        return "late", slot

    def _released_if(self, halted: str | None) -> str | None:
        if halted is not None:
            self._room.release()
        return halted

    def _halted(self, generation: int) -> str | None:
        if self.stopped_by is not None:
            return "stopped"
        if self.closing:
            return "shutdown"
        return "throttled" if self.throttle_generation != generation else None

    async def _mark_and_post(self, send: Send, at: float | None, max_lateness: float) -> Posted:
        """Holding room in flight: mark the row, wait for the slot ``at``, POST."""
        try:
            allowed = self.marker is None or await self.marker.mark(send)
        except BaseException:
            self._room.release()
            raise
        if not allowed:
            self._room.release()
            return Posted(send, NotStarted("changed before sending"), self.now_fn())
        if at is not None:
            await sleep_until(at)
            if asyncio.get_running_loop().time() - at > max_lateness:
                # The mark took too long: sending now could crowd the next slots.
                self._room.release()
                return Posted(send, NotStarted("late"), self.now_fn())
        return await self._post(send)

    async def _post(self, send: Send) -> Posted:
        try:
            result: SendResult | BaseException = await self._send(send)
        except (WhatsAppError, ValueError) as error:  # ValueError: an invalid phone number
            result = error
            self._notice(error)
        except Exception as error:
            # Unforeseen: the request may have left, so it is treated like a dropped
            # connection (in doubt), never as "not sent".
            result = NetworkError(f"unexpected error: {error!r}", failure="disconnect")
        finally:
            self._room.release()
        if self.observer is not None:
            self.observer(send, result)
        return Posted(send, result, self.now_fn())

    async def _send(self, send: Send) -> SendResult:
        # ``send.to``: the phone number, or the BSUID when the number is unusable.
        number = send.claimed.sender
        if number is None or number == self.client.phone_number_id:
            return await self.client.send(send.message, send.to)
        return await self.client.send(send.message, send.to, phone_number_id=number)

    def _notice(self, error: Exception) -> None:
        if isinstance(error, WhatsAppError) and error.fatal and self.stopped_by is None:
            self.stopped_by = error
        if isinstance(error, THROTTLING):
            self.throttle_generation += 1
            self.throttle_seconds = max(self.throttle_seconds, error.wait_hint_seconds)
