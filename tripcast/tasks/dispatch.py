"""Prefect wrappers for dispatch: one task run per few batches (never per message).

A task run per message would cap dispatch at Prefect's task-run rate (about 240/s on
two cores); batches of hundreds do not, and several batches per task run let the
dispatcher's lanes overlap one batch's database work with another's sends. The task
retries only what a retry can fix, a database that was briefly unreachable: a retried
batch is safe because sends already started are marked and never claimed again.

In a flow::

    try:
        report = dispatch_batch(batch_size=500, max_batches=20)
    except DispatchStopped as stopped:
        return Failed(message=str(stopped))  # one line for the operator
    publish_dispatch_report(report)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from prefect.artifacts import create_table_artifact
from sqlalchemy.engine import Engine

from tripcast.dispatch.dispatcher import run_dispatch, utc_now
from tripcast.dispatch.run_report import DispatchReport
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.tasks.decorator import database_task
from tripcast.whatsapp.client import WhatsAppClient


# Two calls with the same arguments are two different batches: never cached. A lost
# database is retried; a refused account (``DispatchStopped``) is not transient.
@database_task("dispatch-batch")
def dispatch_batch(
    batch_size: int = 500,
    *,
    max_batches: int = 1,
    now: datetime | None = None,
    settings: DispatchSettings | None = None,
    engine: Engine | None = None,
    client_factory: Callable[[], WhatsAppClient] | None = None,
) -> DispatchReport:
    """Dispatch up to ``max_batches`` batches; ``now`` pins the clock (``sweep --now``).

    Engine, client and rate default to the configured ones (``TRIPCAST_*``).
    """
    from tripcast.models.engine import get_engine
    from tripcast.settings import get_settings

    configured = get_settings()
    return run_dispatch(
        engine or get_engine(),
        client_factory=client_factory or (lambda: WhatsAppClient.from_settings(configured)),
        settings=settings or DispatchSettings.from_settings(configured),
        now_fn=(lambda: now) if now is not None else utc_now,
        batch_size=batch_size,
        max_batches=max_batches,
    )


def publish_dispatch_report(report: DispatchReport, *, key: str = "dispatch-report") -> None:
    """A table artifact of the run's outcomes (call inside a flow or task run)."""
    create_table_artifact(report.rows(), key=key, description=report.summary())
