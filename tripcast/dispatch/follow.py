"""The always-on dispatcher (``tripcast dispatch --follow``): seconds from commit to send.

It LISTENs on the outbox channel and drains the queue whenever a pending outbound row
is inserted or updated, and at least every ``poll_seconds`` (notifications missed while
reconnecting, deferred rows whose time has come). Draining is the sweep's own dispatch
machinery (``dispatcher.drain``): the same claims, leases, shared rate per phone number
id, window and consent checks, so any number of followers and sweeps run side by side
and every message is still sent once.

Each wake also sends the read receipts now due (``acknowledge_answers``: the latest
inbound message of each traveller being answered), so a follower without a minute sweep
marks messages read within seconds too; the sweep's receipts and its never overlap.

Stopping (``stop`` set, e.g. on SIGTERM): no new launches; POSTs in flight finish and
are recorded, unsent claimed rows go back to the queue, and ``follow`` returns.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from tripcast.conversations.acknowledge import acknowledge_answers
from tripcast.dispatch.dispatcher import DispatchRun, drain, new_run
from tripcast.dispatch.handoff import FOLLOWER_APP_NAME
from tripcast.dispatch.run_report import BatchDone, DispatchReport
from tripcast.dispatch.sender import Sender
from tripcast.dispatch.stopped import DispatchStopped
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.whatsapp.client import WhatsAppClient

CHANNEL = "tripcast_whatsapp_messages"
log = logging.getLogger("tripcast.dispatch.follow")

# Called with every batch of every follower in this process, after its ``on_batch``: a
# metrics module registers here once (``BATCH_HOOKS.append(record)``) and sees the
# batches of `tripcast dispatch --follow` and `tripcast serve` alike. A hook must be
# quick and must not raise.
BATCH_HOOKS: list[Callable[[BatchDone], None]] = []


@dataclass(frozen=True)
class FollowOptions:
    poll_seconds: float = 5.0
    batch_size: int = 500
    # After the account was refused (190 ...) or the database failed: wait this long.
    backoff_seconds: float = 30.0
    # Read receipts on each wake (TRIPCAST_WHATSAPP_TYPING_INDICATOR for the indicator).
    read_receipts: bool = True
    typing_indicator: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.poll_seconds <= 5:
            raise ValueError("poll_seconds must be in (0, 5]: the fallback polls every 5 s")


def wakes_dispatch(payload: str) -> bool:
    """Whether an outbox notification may mean a message to send: a pending outbound row
    inserted or updated. Reads only op, direction and status; unreadable payloads wake."""
    try:
        note = json.loads(payload)
        return bool(note.get("status") == "pending" and note.get("direction") == "outbound")
    except (ValueError, AttributeError):
        return True


def listen_conninfo(engine: Engine) -> str:
    """The engine's database as a libpq URL for a plain psycopg connection."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(conninfo: str, wake: asyncio.Event) -> None:
    """Set ``wake`` on each notification that may mean work; reconnect forever."""
    while True:
        try:
            connecting = psycopg.AsyncConnection.connect(
                conninfo, autocommit=True, application_name=FOLLOWER_APP_NAME
            )
            async with await connecting as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                wake.set()  # notifications sent while we were away are lost: look once
                async for note in conn.notifies():
                    # Already woken: a bulk insert's thousands of notes are not read.
                    if not wake.is_set() and wakes_dispatch(note.payload):
                        wake.set()
        except psycopg.Error as error:
            log.warning("dispatch follower: listen connection lost (%s); reconnecting", error)
            await asyncio.sleep(1.0)


async def follow(
    engine: Engine,
    *,
    client: WhatsAppClient,
    settings: DispatchSettings,
    stop: asyncio.Event,
    options: FollowOptions | None = None,
    on_batch: Callable[[BatchDone], None] | None = None,
    owner: str | None = None,
) -> DispatchReport:
    """Dispatch as messages arrive until ``stop`` is set; the total report."""
    options = options or FollowOptions()
    run = new_run(engine, client=client, settings=settings, owner=owner)
    run.on_batch = _batch_hook(on_batch)
    wake = asyncio.Event()
    listener = asyncio.create_task(listen(listen_conninfo(engine), wake))
    closer = asyncio.create_task(_close_on(stop, run.sender))
    total = DispatchReport()
    log.info("dispatch follower %s: listening on %s", run.owner, CHANNEL)
    try:
        while not stop.is_set():
            wake.clear()
            if options.read_receipts:
                await _acknowledge_once(run, client, typing=options.typing_indicator)
            report, pause = await _drain_once(run, options)
            total.merge(report)
            if pause is None and not report.finished:
                continue  # more may be due at once
            await _wait_any(wake, stop, seconds=pause or options.poll_seconds)
    finally:
        for task in (listener, closer):
            task.cancel()
        await asyncio.gather(listener, closer, return_exceptions=True)
    log.info("dispatch follower %s: stopped; %s", run.owner, total.summary())
    return total


async def _drain_once(
    run: DispatchRun, options: FollowOptions
) -> tuple[DispatchReport, float | None]:
    """One drain; a pause to take before the next when something went wrong."""
    try:
        return await drain(run, batch_size=options.batch_size), None
    except DispatchStopped as stopped:
        log.error("dispatch follower: %s; retrying in %.0f s", stopped, options.backoff_seconds)
        run.sender.stopped_by = None  # try the account again after the pause
        return stopped.report, options.backoff_seconds
    except DBAPIError as error:
        log.error("dispatch follower: database error (%s); retrying", error.orig)
        return DispatchReport(), options.backoff_seconds
    except Exception:
        # An always-on process outlives one bad drain: its claims return to the queue
        # when their lease runs out, its marked sends are reconciled as in doubt.
        log.exception("dispatch follower: drain failed; retrying")
        return DispatchReport(), options.backoff_seconds


async def _acknowledge_once(run: DispatchRun, client: WhatsAppClient, *, typing: bool) -> None:
    """Before the drain, so the typing indicator shows while the answer is still queued."""
    try:
        report = await acknowledge_answers(run.engine, client, now=run.now_fn(), typing=typing)
    except Exception:  # the receipts wait for the next wake; sending goes on
        log.exception("dispatch follower: read receipts failed; retrying on the next wake")
        return
    if report.marked_read or report.refused:
        log.info("dispatch follower: %d marked read, %d refused", report.marked_read,
                 report.refused)  # fmt: skip


def _batch_hook(extra: Callable[[BatchDone], None] | None) -> Callable[[BatchDone], None]:
    def hook(done: BatchDone) -> None:
        log.info("dispatch %s", done.line())
        for hook in [extra, *BATCH_HOOKS]:
            if hook is None:
                continue
            try:
                hook(done)
            except Exception:  # a broken metrics hook must not stop sending
                log.exception("dispatch follower: batch hook failed")

    return hook


async def _close_on(stop: asyncio.Event, sender: Sender) -> None:
    await stop.wait()
    sender.closing = True


async def _wait_any(*events: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
