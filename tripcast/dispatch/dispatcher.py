"""Dispatching the outbox: claim a batch, plan, pace, mark, POST, record; repeat.

A batch takes four short transactions: the claim, the slot reservation, the
send-started mark (committed before the first POST), and one statement writing every
outcome and delivery log (a fifth writes the answers slower than ``record_after``, each
bounded by the client's request deadline). Several lanes run batches at once over one shared client,
so one lane's database work overlaps another lane's sends. Database calls run in
worker threads to keep the event loop free for the sends in flight.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.engine import Engine

from tripcast.dispatch import store
from tripcast.dispatch.calls import db_call, retrying
from tripcast.dispatch.errors import DispatchStopped
from tripcast.dispatch.marker import Marker
from tripcast.dispatch.outcomes import (
    AttemptLog,
    Outcome,
    accepted,
    deferred,
    errored,
    refused,
    unsent,
)
from tripcast.dispatch.outcomes import describe as describe_error
from tripcast.dispatch.pacing import Pacer
from tripcast.dispatch.plan import Refuse, Send, plan_message
from tripcast.dispatch.report import BatchDone, DispatchReport
from tripcast.dispatch.sender import Launched, NotStarted, Posted, Sender
from tripcast.dispatch.settings import DispatchSettings
from tripcast.dispatch.spacing import PAIR_SPACING_REASON, RecipientSpacing
from tripcast.senders.batch import (
    by_sender,
    claim_and_route,
    combined_settings,
    hold_sends,
    sender_settings,
)
from tripcast.senders.breaker import Breakers
from tripcast.senders.limits import within_limit
from tripcast.senders.routing import Senders
from tripcast.templates.gate import learn_from_refusals, screen_templates, template_refusals
from tripcast.whatsapp.client import WhatsAppClient
from tripcast.whatsapp.messages import SendResult

EXPIRE_CHUNK = 1000


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


async def dispatch_pending(
    engine: Engine,
    *,
    client: WhatsAppClient,
    settings: DispatchSettings | None = None,
    now_fn: Callable[[], datetime] = utc_now,
    batch_size: int = 500,
    max_batches: int | None = None,
    owner: str | None = None,
    rng: random.Random | None = None,
) -> DispatchReport:
    """Send due outbound messages until none is left (or ``max_batches`` were claimed).

    First cleans up after dead dispatchers (in-doubt sends past their grace period fail
    as outcome unknown). ``owner`` names this run's leases (e.g. a flow run id). Raises
    ``DispatchStopped`` after recording everything when WhatsApp refuses the account.
    """
    run = new_run(
        engine,
        client=client,
        settings=settings or DispatchSettings(),
        now_fn=now_fn,
        owner=owner,
        rng=rng,
    )
    run.batches_left = max_batches
    return await drain(run, batch_size=batch_size)


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
    sender.marker = Marker(partial(_mark_sends, run))
    sender.observer = lambda send, result: (
        run.breakers.of(send.claimed.sender).record(result, now=run.now_fn())
        if send.claimed.sender is not None
        else None
    )
    sender.mark_lead = settings.mark_lead
    return run


async def drain(run: DispatchRun, *, batch_size: int) -> DispatchReport:
    """Clean up after dead dispatchers, then send what is due until the queue is empty
    (or ``run.batches_left`` runs out); the run's report, reset for the next call."""
    run.report = DispatchReport()
    run.report.expired_in_doubt = await asyncio.to_thread(expire_all_in_doubt, run)
    await _run_lanes(run, batch_size)
    if run.sender.stopped_by is not None:
        run.report.stopped_by = describe_error(run.sender.stopped_by)
        left = run.report.count("stopped") + run.report.count("deferred")
        raise DispatchStopped(run.sender.stopped_by, report=run.report, left_pending=left)
    return run.report


def run_dispatch(
    engine: Engine,
    *,
    client_factory: Callable[[], WhatsAppClient],
    settings: DispatchSettings | None = None,
    now_fn: Callable[[], datetime] = utc_now,
    batch_size: int = 500,
    max_batches: int | None = None,
    owner: str | None = None,
) -> DispatchReport:
    """``dispatch_pending`` for synchronous callers; the client is built inside the loop."""

    async def main() -> DispatchReport:
        async with client_factory() as client:
            return await dispatch_pending(
                engine,
                client=client,
                settings=settings,
                now_fn=now_fn,
                batch_size=batch_size,
                max_batches=max_batches,
                owner=owner,
            )

    return asyncio.run(main())


def expire_all_in_doubt(run: DispatchRun) -> int:
    """Clean up after dead dispatchers; returns how many sends ended as outcome unknown."""
    total = 0
    while True:
        now = run.now_fn()
        with run.engine.begin() as connection:
            released = store.release_orphaned_leases(connection, now=now, limit=EXPIRE_CHUNK)
            expired = store.expire_in_doubt(
                connection, now=now, grace=run.settings.in_doubt_grace, limit=EXPIRE_CHUNK
            )
        total += len(expired)
        if len(expired) < EXPIRE_CHUNK and len(released) < EXPIRE_CHUNK:
            return total


async def _run_lanes(run: DispatchRun, batch_size: int) -> None:
    """Run the lanes together; if one fails, cancel the others (their sends in flight
    stay in doubt, never re-sent) and raise its error."""
    count = run.settings.lane_count
    lanes = [
        asyncio.create_task(_lane(run, batch_size, first=_first_batch(run, batch_size, i, count)))
        for i in range(count)
    ]
    try:
        await asyncio.gather(*lanes)
    except BaseException:
        for lane in lanes:
            lane.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        raise


def _first_batch(run: DispatchRun, batch_size: int, index: int, count: int) -> int:
    """Unpaced lanes start with batches of 1/n, 2/n, ... n/n of ``batch_size``: lanes
    that started together would end their batches together, and the room in flight
    would stand idle while all of them record and claim at once."""
    if run.settings.send_rate is not None:
        return batch_size
    return max(1, -(-batch_size * (index + 1) // count))


async def _lane(run: DispatchRun, batch_size: int, *, first: int) -> None:
    size = first
    while run.take_batch():
        limit = run.claim_limit(size)
        claimed = await dispatch_one_batch(run, batch_size=size)
        if claimed < limit:
            run.report.drained = True
            return  # the queue is drained for now
        size = batch_size


async def dispatch_one_batch(run: DispatchRun, *, batch_size: int) -> int:
    """Claim, plan, send and record one batch; returns how many messages it claimed."""
    now = run.now_fn()
    began = time.monotonic()
    expired, claimed, routed, outcomes, senders = await db_call(
        run.engine,
        claim_and_route,
        now=now,
        owner=run.owner,
        lease=run.settings.lease,
        limit=run.claim_limit(batch_size),
        default=run.sender.client.phone_number_id,
    )
    run.report.expired += len(expired)
    if not claimed:
        return 0
    # Each message was bound to its number first: its 24-hour window is that number's.
    run.senders = senders
    plans, waiting = hold_sends(
        [plan_message(message, now=now) for message in routed], senders, now=now
    )
    outcomes += waiting
    # The template catalog's word before any call to Meta: paused ones wait.
    plans, screened = await db_call(run.engine, screen_templates, plans=plans, now=now)
    outcomes += screened
    # The portfolio's messaging limit: templates to new users past the tier wait.
    plans, limited = await db_call(
        run.engine, within_limit, plans=plans, senders=senders.by_id.values(), now=now
    )
    outcomes += limited
    outcomes += [refused(plan, now=now) for plan in plans if isinstance(plan, Refuse)]
    sends, held = run.spacing.split([p for p in plans if isinstance(p, Send)], now=now)
    outcomes += [
        deferred(send, now=now, reason=PAIR_SPACING_REASON, retry_at=free_at)
        for send, free_at in held
    ]
    # Last: a half-open number's probe is then one that really goes.
    sends, tripped = run.breakers.gate(sends, now=now)
    outcomes += tripped
    logs: list[AttemptLog] = []
    late: list[asyncio.Task[Posted]] = []
    if sends:
        send_outcomes, logs, late = await _send(run, sends)
        outcomes.extend(send_outcomes)
        if template_refusals(sends, logs):  # Meta's 132015 / 132016 update the catalog
            await db_call(run.engine, learn_from_refusals, sends=sends, logs=logs, now=now)
    await _record(run, outcomes, logs)
    run.report.add_batch(outcomes, claimed=len(claimed), attempts=len(logs))
    if run.on_batch is not None:
        run.on_batch(
            BatchDone(claimed, outcomes, expired=len(expired), seconds=time.monotonic() - began)
        )
    if late:
        # Slow answers (each within the client's deadline) are recorded apart, so the
        # rest of the batch was not left unrecorded, and in doubt, while they came.
        late_outcomes, late_logs = _settle_all(run, await asyncio.gather(*late))
        await _record(run, late_outcomes, late_logs)
        run.report.add_late(late_outcomes, attempts=len(late_logs))
    return len(claimed)


async def _record(run: DispatchRun, outcomes: list[Outcome], logs: list[AttemptLog]) -> None:
    await asyncio.to_thread(
        retrying, run.engine, store.write_outcomes, outcomes=outcomes, logs=logs, owner=run.owner
    )


Sent = tuple[list[Outcome], list[AttemptLog], list[asyncio.Task[Posted]]]


async def _send(run: DispatchRun, sends: list[Send]) -> Sent:
    """Send each number's share of the batch on that number's own schedule, together."""
    groups = by_sender(sends)
    results = await asyncio.gather(
        *(_send_from(run, run.pacer_for(number), group) for number, group in groups.items())
    )
    outcomes = [outcome for result in results for outcome in result[0]]
    logs = [log for result in results for log in result[1]]
    return outcomes, logs, [task for result in results for task in result[2]]


async def _send_from(run: DispatchRun, pacer: Pacer, sends: list[Send]) -> Sent:
    """Reserve slots and send; each row is marked in flight by its own task just before
    its POST (``marker``), so a crash never leaves an unsent row in doubt."""
    generation = run.sender.throttle_generation
    slots = await pacer.reserve(len(sends))
    posted, launched = await pacer.send(sends, slots, generation=generation)
    outcomes, logs = _settle_all(run, posted)
    outcomes.extend(_not_posted(run, launched))
    return outcomes, logs, launched.stragglers


def _settle_all(
    run: DispatchRun, posted: Sequence[Posted]
) -> tuple[list[Outcome], list[AttemptLog]]:
    """Outcomes of answered POSTs, and of sends whose in-flight mark was refused."""
    outcomes: list[Outcome] = []
    logs: list[AttemptLog] = []
    for item in posted:
        if isinstance(item.result, NotStarted):
            outcomes.append(unsent(item.send, kind="deferred", reason=item.result.reason))
            continue
        outcome, log = _settle(run, item)
        outcomes.append(outcome)
        logs.append(log)
    return outcomes, logs


async def _mark_sends(run: DispatchRun, sends: Sequence[Send]) -> set[uuid.UUID]:
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


def _settle(run: DispatchRun, item: Posted) -> tuple[Outcome, AttemptLog]:
    if isinstance(item.result, SendResult):
        return accepted(item.send, item.result, now=item.at)
    assert isinstance(item.result, BaseException)
    return errored(
        item.send,
        item.result,
        now=item.at,
        max_attempts=run.settings.max_attempts,
        rng=run.rng,
    )


def _not_posted(run: DispatchRun, launched: Launched) -> list[Outcome]:
    """Sends never made: back to the queue with no attempt used (or stopped)."""
    if launched.halted == "stopped":
        return [unsent(send, kind="stopped", reason="batch stopped") for send in launched.unposted]
    now = run.now_fn()
    retry_at = None
    if launched.halted == "throttled":
        retry_at = now + timedelta(seconds=run.sender.throttle_seconds)
    reason = launched.halted or "not sent"
    return [deferred(send, now=now, reason=reason, retry_at=retry_at) for send in launched.unposted]
