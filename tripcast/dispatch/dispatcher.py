"""Dispatching the outbox: claim a batch, plan, pace, mark, POST, record; repeat.

A batch takes four kinds of short transaction: the claim, the slot reservation (paced),
the send-started marks (each committed before the POSTs it covers, see ``marker``), and
one statement writing every outcome and delivery log (a further one writes the answers
slower than ``record_after``, each bounded by the client's request deadline). Several
lanes run batches at once over one shared client, so one lane's database work overlaps
another lane's sends. Database calls run in worker threads to keep the event loop free
for the sends in flight. The run's shared state is ``run``; a batch's sends, ``launch``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

from tripcast.dispatch import store
from tripcast.dispatch.calls import db_call, retrying
from tripcast.dispatch.launch import send_all, settle_all
from tripcast.dispatch.message_plan import Refuse, Send, plan_message
from tripcast.dispatch.outcomes import AttemptLog, Outcome, deferred, refused
from tripcast.dispatch.outcomes import describe as describe_error
from tripcast.dispatch.run import DispatchRun, new_run, utc_now
from tripcast.dispatch.run_report import BatchDone, DispatchReport
from tripcast.dispatch.sender import Posted
from tripcast.dispatch.spacing import PAIR_SPACING_REASON
from tripcast.dispatch.stopped import DispatchStopped
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.senders.batch import claim_and_route, hold_sends
from tripcast.senders.limits import within_limit
from tripcast.templates.gate import learn_from_refusals, screen_templates, template_refusals
from tripcast.whatsapp.client import WhatsAppClient

__all__ = ["DispatchRun", "dispatch_pending", "drain", "new_run", "run_dispatch", "utc_now"]

EXPIRE_CHUNK = 1000


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
    """Unpaced lanes start with batches of n/n, ..., 2/n, 1/n of ``batch_size``: lanes
    that started together would end their batches together, and the room in flight
    would stand idle while all of them record and claim at once."""
    if run.settings.send_rate is not None:
        return batch_size
    return max(1, -(-batch_size * (count - index) // count))


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
        send_outcomes, logs, late = await send_all(run, sends)
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
        late_outcomes, late_logs = settle_all(run, await asyncio.gather(*late))
        await _record(run, late_outcomes, late_logs)
        run.report.add_late(late_outcomes, attempts=len(late_logs))
    return len(claimed)


async def _record(run: DispatchRun, outcomes: list[Outcome], logs: list[AttemptLog]) -> None:
    await asyncio.to_thread(
        retrying, run.engine, store.write_outcomes, outcomes=outcomes, logs=logs, owner=run.owner
    )
