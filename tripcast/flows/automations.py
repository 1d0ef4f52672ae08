"""Planner flows (one per automation) and the minute sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from prefect import flow

from tripcast.flows.timing import resolve_now, run_name
from tripcast.tasks.automations import (
    execute_jobs_task,
    job_rows,
    plan_rows,
    plan_rules_task,
    publish_summary,
)


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


@flow(name="minute-sweep", flow_run_name=run_name("minute-sweep"))
def minute_sweep(now: datetime | None = None, batch_size: int = 200) -> dict[str, Any]:
    """The seed's process_scheduled_jobs, every minute: plan what is due soon, execute it."""
    moment = resolve_now(now)
    planned = plan_rules_task(
        trigger_types=["trip_start", "trip_end", "booking_pending", "budget_exceeded", "schedule"],
        now=moment,
        horizon=timedelta(minutes=15),
        max_lateness=timedelta(hours=24),
    )
    executed = execute_jobs_task(now=moment, batch_size=batch_size)
    publish_summary(
        key="minute-sweep-summary",
        rows=plan_rows(planned) + job_rows(executed),
        description=f"Sweep at {moment:%Y-%m-%d %H:%M:%S} UTC",
    )
    return {"planned": planned.planned, "jobs": dict(executed.outcomes)}
