"""A batch's sends: each number's share on that number's own schedule, together, and
the outcome of every send made or not made."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from tripcast.dispatch.message_plan import Send
from tripcast.dispatch.outcomes import AttemptLog, Outcome, accepted, deferred, errored, unsent
from tripcast.dispatch.pacing import Pacer
from tripcast.dispatch.run import DispatchRun
from tripcast.dispatch.sender import Launched, NotStarted, Posted
from tripcast.senders.batch import by_sender
from tripcast.whatsapp.messages import SendResult

Sent = tuple[list[Outcome], list[AttemptLog], list[asyncio.Task[Posted]]]


async def send_all(run: DispatchRun, sends: list[Send]) -> Sent:
    """Send each number's share of the batch on that number's own schedule, together."""
    groups = by_sender(sends)
    results = await asyncio.gather(
        *(_send_from(run, run.pacer_for(number), group) for number, group in groups.items())
    )
    outcomes = [outcome for result in results for outcome in result[0]]
    logs = [log for result in results for log in result[1]]
    return outcomes, logs, [task for result in results for task in result[2]]


async def _send_from(run: DispatchRun, pacer: Pacer, sends: list[Send]) -> Sent:
    """Reserve slots and send; rows are marked in flight just before their POSTs (per
    send when paced, in waves when not: ``marker``), so a crash leaves in doubt only
    the sends that may have left and the few marked just ahead of them."""
    generation = run.sender.throttle_generation
    slots = await pacer.reserve(len(sends))
    posted, launched = await pacer.send(sends, slots, generation=generation)
    outcomes, logs = settle_all(run, posted)
    outcomes.extend(not_posted(run, launched))
    return outcomes, logs, launched.stragglers


def settle_all(
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


def not_posted(run: DispatchRun, launched: Launched) -> list[Outcome]:
    """Sends never made: back to the queue with no attempt used (or stopped)."""
    if launched.halted == "stopped":
        return [unsent(send, kind="stopped", reason="batch stopped") for send in launched.unposted]
    now = run.now_fn()
    retry_at = None
    if launched.halted == "throttled":
        retry_at = now + timedelta(seconds=run.sender.throttle_seconds)
    reason = launched.halted or "not sent"
    return [deferred(send, now=now, reason=reason, retry_at=retry_at) for send in launched.unposted]
