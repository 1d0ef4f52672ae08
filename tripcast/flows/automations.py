"""Planner flows (one per automation) and the minute sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from prefect import flow
from prefect.states import Failed

from tripcast.automations.sweep import (
    BATCHES_PER_TASK_RUN,
    HORIZON,
    MAX_LATENESS,
    MIN_DISPATCH_BATCH,
    dispatch_rounds,
    sweep_result,
)
from tripcast.dispatch import DispatchReport, DispatchStopped
from tripcast.flows.timing import run_name
from tripcast.rules.clock import resolve_now
from tripcast.rules.triggers import TRIGGER_TYPES
from tripcast.tasks.automations import (
    dispatch_rows,
    execute_jobs_task,
    job_rows,
    plan_rows,
    plan_rules_task,
    publish_summary,
)
from tripcast.tasks.conversations import acknowledge_answers_task, acknowledge_rows
from tripcast.tasks.dispatch import dispatch_batch


def _plan(
    flow_key: str, trigger_types: list[str], *, now: datetime | None, horizon_hours: float
) -> dict[str, int]:
    moment = resolve_now(now)
    report = plan_rules_task(
        trigger_types=trigger_types,
        now=moment,
        horizon=timedelta(hours=horizon_hours),
        max_lateness=timedelta(hours=24),
    )
    publish_summary(
        key=f"{flow_key}-summary",
        rows=plan_rows(report),
        description=f"Jobs planned for {moment:%Y-%m-%d %H:%M} UTC",
    )
    return report.planned


@flow(name="trip-reminders", flow_run_name=run_name("trip-reminders"))
def trip_reminders(now: datetime | None = None, horizon_hours: float = 24) -> dict[str, int]:
    """Plan trip_start and trip_end rules for occurrences due within the horizon."""
    return _plan("trip-reminders", ["trip_start", "trip_end"], now=now, horizon_hours=horizon_hours)


@flow(name="budget-alerts", flow_run_name=run_name("budget-alerts"))
def budget_alerts(now: datetime | None = None) -> dict[str, int]:
    """Plan budget_exceeded rules: trips whose spending reached a rule's threshold."""
    return _plan("budget-alerts", ["budget_exceeded"], now=now, horizon_hours=0)


@flow(name="booking-nudges", flow_run_name=run_name("booking-nudges"))
def booking_nudges(now: datetime | None = None, horizon_hours: float = 1) -> dict[str, int]:
    """Plan booking_pending rules: bookings still pending after the rule's hours."""
    return _plan("booking-nudges", ["booking_pending"], now=now, horizon_hours=horizon_hours)


@flow(name="scheduled-messages", flow_run_name=run_name("scheduled-messages"))
def scheduled_messages(now: datetime | None = None, horizon_hours: float = 1) -> dict[str, int]:
    """Plan schedule rules: one job per cron tick in the rule's timezone."""
    return _plan("scheduled-messages", ["schedule"], now=now, horizon_hours=horizon_hours)


def _dispatch_all(*, now: datetime | None, batch_size: int) -> DispatchReport:
    """Dispatch task run after task run until nothing is left to send now."""
    return dispatch_rounds(
        lambda: dispatch_batch(batch_size=batch_size, max_batches=BATCHES_PER_TASK_RUN, now=now)
    )


@flow(name="minute-sweep", flow_run_name=run_name("minute-sweep"))
def minute_sweep(
    now: datetime | None = None, batch_size: int = 200, dispatch: bool = True
) -> dict[str, Any]:
    """The seed's process_scheduled_jobs, every minute: plan what is due soon, execute
    due jobs, send the pending messages."""
    moment = resolve_now(now)
    planned = plan_rules_task(
        trigger_types=list(TRIGGER_TYPES), now=moment, horizon=HORIZON, max_lateness=MAX_LATENESS
    )
    executed = execute_jobs_task(now=moment, batch_size=batch_size)
    rows = plan_rows(planned) + job_rows(executed)
    sent = DispatchReport()
    if dispatch:
        # Before sending: the typing indicator shows while the answers leave.
        rows += acknowledge_rows(acknowledge_answers_task(now=moment))
        try:
            sent = _dispatch_all(now=now, batch_size=max(batch_size, MIN_DISPATCH_BATCH))
        except DispatchStopped as stopped:
            publish_summary(
                key="minute-sweep-summary",
                rows=rows + dispatch_rows(stopped.report),
                description=str(stopped),
            )
            return Failed(message=str(stopped))  # type: ignore[return-value]
    if dispatch:
        rows += _sender_rows()  # each business number's state, beside what it sent
    publish_summary(
        key="minute-sweep-summary",
        rows=rows + dispatch_rows(sent),
        description=f"Sweep at {moment:%Y-%m-%d %H:%M:%S} UTC",
    )
    return sweep_result(planned, executed, sent)


def _sender_rows() -> list[dict[str, Any]]:
    from tripcast.models.engine import get_engine
    from tripcast.senders.registry import summary_rows

    with get_engine().connect() as connection:
        return summary_rows(connection)
