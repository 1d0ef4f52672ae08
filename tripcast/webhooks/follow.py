"""Applying deliveries as they arrive: LISTEN for the receiver's nudge, drain, repeat.

The receiver announces each stored delivery on ``tripcast_webhook_deliveries``; this loop
wakes on it (after a short debounce, so a burst becomes one batch) and drains the inbox.
It also wakes every ``backstop_seconds`` without a nudge: for kept receipts whose retry
is due, and for deliveries whose nudge was missed (the loop was reconnecting). The
scheduled ingest flow is the backstop of this loop itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import Engine

from tripcast.transient import is_transient_database_error
from tripcast.webhooks.batch_report import IngestReport
from tripcast.webhooks.deliveries import CHANNEL, psycopg_conninfo
from tripcast.webhooks.ingest import IngestPolicy, drain

log = logging.getLogger(__name__)


def follow(
    engine: Engine,
    *,
    stop: threading.Event,
    policy: IngestPolicy | None = None,
    backstop_seconds: float = 2.0,
    debounce_seconds: float = 0.02,
    on_report: Callable[[IngestReport], None] | None = None,
) -> IngestReport:
    """Drain on every nudge and every ``backstop_seconds`` until ``stop`` is set."""
    conninfo = psycopg_conninfo(engine.url.render_as_string(hide_password=False))
    total = IngestReport()
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as listener:
                listener.execute(f"LISTEN {CHANNEL}")
                while not stop.is_set():
                    # Drain first: deliveries stored before LISTEN took effect get applied.
                    total += _drain(engine, policy, on_report)
                    if _wait_for_nudge(listener, stop, backstop_seconds):
                        stop.wait(debounce_seconds)
        except psycopg.OperationalError as error:
            log.warning("ingest listener lost its connection (%s); reconnecting", error)
            stop.wait(1.0)
    return total


def _drain(
    engine: Engine,
    policy: IngestPolicy | None,
    on_report: Callable[[IngestReport], None] | None,
) -> IngestReport:
    try:
        report = drain(engine, policy=policy)
    except Exception as error:
        # The loop must outlive any one failure; the next nudge or backstop retries.
        if is_transient_database_error(error):
            log.warning("ingest batch hit a transient database error; retrying soon")
        else:
            log.exception("ingest batch failed; retrying on the next wake-up")
        return IngestReport()
    if not report.idle:
        log.info("ingest: %s", report.summary())
        if on_report is not None:
            on_report(report)
    return report


def _wait_for_nudge(listener: psycopg.Connection, stop: threading.Event, seconds: float) -> bool:
    """True on a nudge, False when ``seconds`` passed (or ``stop`` was set) without one."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        # Short waits so that ``stop`` is noticed promptly. Each generator is run to its
        # end: while one is open it holds the connection's lock.
        if list(listener.notifies(timeout=min(remaining, 0.25), stop_after=1)):
            list(listener.notifies(timeout=0.001))  # the rest of a burst: one drain for all
            return True
    return False
