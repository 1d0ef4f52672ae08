"""A dispatcher's shared state: what the lanes of one ``dispatch_pending`` call share,
and the in-flight mark they all write through (``marker``)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.engine import Engine

from tripcast.dispatch import store
from tripcast.dispatch.calls import retrying
from tripcast.dispatch.marker import Marker
from tripcast.dispatch.message_plan import Send
from tripcast.dispatch.pacing import Pacer
from tripcast.dispatch.run_report import BatchDone, DispatchReport
from tripcast.dispatch.sender import Sender
from tripcast.dispatch.spacing import RecipientSpacing
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.senders.batch import combined_settings, sender_settings
from tripcast.senders.breaker import Breakers
from tripcast.senders.routing import Senders
from tripcast.whatsapp.client import WhatsAppClient


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class DispatchRun:
    """What the lanes of one ``dispatch_pending`` call share."""

    engine: Engine
    sender: Sender
    pacer: Pacer
    settings: DispatchSettings
    now_fn: Callable[[], datetime]
    owner: str
    rng: random.Random
    spacing: RecipientSpacing
    report: DispatchReport = field(default_factory=DispatchReport)
    batches_left: int | None = None
    # Called after each batch is recorded (a follower's log line, metrics).
    on_batch: Callable[[BatchDone], None] | None = None
    # The sender table as the last claim saw it, and one schedule per number.
    senders: Senders | None = None
    pacers: dict[str, Pacer] = field(default_factory=dict)
    breakers: Breakers = field(default_factory=Breakers)

    def claim_limit(self, batch_size: int) -> int:
        """A batch's claim: ``batch_seconds`` at the sum of the active numbers' rates, so
        several numbers together send at the sum of their rates."""
        return combined_settings(self.settings, self.senders).claim_limit(batch_size)

    def pacer_for(self, number: str | None) -> Pacer:
        """The schedule of ``number`` at its own rate (the default's: the run's pacer)."""
        if number is None or number == self.sender.client.phone_number_id or not self.senders:
            return self.pacer
        if number not in self.pacers:
            settings = sender_settings(self.settings, self.senders.get(number))
            self.pacers[number] = Pacer(self.engine, self.sender, settings, phone_number_id=number)
        return self.pacers[number]

    def take_batch(self) -> bool:
        if self.sender.stopped_by is not None or self.sender.closing:
            return False
        if self.batches_left is None:
            return True
        self.batches_left -= 1
        return self.batches_left >= 0


def new_run(
    engine: Engine,
    *,
    client: WhatsAppClient,
    settings: DispatchSettings,
    now_fn: Callable[[], datetime] = utc_now,
    owner: str | None = None,
    rng: random.Random | None = None,
) -> DispatchRun:
    """A dispatcher's shared state: one client, one in-flight limit, one lease owner."""
    sender = Sender(
        client,
        max_in_flight=settings.max_in_flight,
        now_fn=now_fn,
        mark_lead=settings.mark_lead,
        mark_wave=settings.mark_wave,
    )
    run = DispatchRun(
        engine=engine,
        sender=sender,
        pacer=Pacer(engine, sender, settings),
        settings=settings,
        now_fn=now_fn,
        owner=owner or f"dispatch-{uuid.uuid4().hex[:12]}",
        rng=rng or random.Random(),
        spacing=RecipientSpacing(
            spacing=settings.pair_spacing, batch_span=timedelta(seconds=settings.batch_seconds)
        ),
    )
    sender.marker = Marker(partial(mark_sends, run))
    sender.observer = lambda send, result: (
        run.breakers.of(send.claimed.sender).record(result, now=run.now_fn())
        if send.claimed.sender is not None
        else None
    )
    sender.mark_lead = settings.mark_lead
    return run


async def mark_sends(run: DispatchRun, sends: Sequence[Send]) -> set[uuid.UUID]:
    """The in-flight mark of a group of sends about to POST (see ``marker``)."""
    return await asyncio.to_thread(
        retrying,
        run.engine,
        store.mark_send_started,
        ids=[send.claimed.id for send in sends],
        now=run.now_fn(),
        owner=run.owner,
        code_expires_at={s.claimed.id: s.expires_at for s in sends if s.expires_at is not None},
        senders={s.claimed.id: s.claimed.sender for s in sends},
    )
