"""Tasks of the automation flows: plan rules, execute due jobs, publish a summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from prefect.artifacts import create_table_artifact

from tripcast.automations.execution import BatchReport, ExecutionSettings, execute_due_jobs
from tripcast.automations.plan_rules import PlanReport, plan_rules
from tripcast.deployments.runs import start_deployment
from tripcast.dispatch.run_report import DispatchReport
from tripcast.models.engine import get_engine
from tripcast.settings import get_settings
from tripcast.tasks.decorator import database_task


@database_task("plan-rules", tags=["tripcast", "planning"])
def plan_rules_task(
    *, trigger_types: Sequence[str], now: datetime, horizon: timedelta, max_lateness: timedelta
) -> PlanReport:
    return plan_rules(
        get_engine(),
        now=now,
        trigger_types=trigger_types,
        horizon=horizon,
        max_lateness=max_lateness,
    )


@database_task("execute-due-jobs", tags=["tripcast", "jobs"])
def execute_jobs_task(*, now: datetime, batch_size: int = 200) -> BatchReport:
    settings = get_settings()
    execution = ExecutionSettings(
        smtp_url=settings.smtp_url.get_secret_value() if settings.smtp_url else None,
        email_from=settings.email_from,
        start_deployment=start_deployment,
    )
    return execute_due_jobs(get_engine(), now=now, settings=execution, batch_size=batch_size)


@database_task("publish-summary", tags=["tripcast"])
def publish_summary(*, key: str, rows: Sequence[Mapping[str, Any]], description: str) -> None:
    """A table artifact an operator reads on the flow run's page in the Prefect UI."""
    create_table_artifact(key=key, table=[dict(row) for row in rows], description=description)


def plan_rows(report: PlanReport) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"step": "plan", "outcome": "planned", "reason": trigger, "count": count}
        for trigger, count in report.planned.items()
    ]
    rows += [
        {"step": "plan", "outcome": "invalid_rule", "reason": invalid.reason, "count": 1}
        for invalid in report.invalid
    ]
    return rows


def job_rows(report: BatchReport) -> list[dict[str, Any]]:
    rows = []
    for key, count in sorted(report.outcomes.items()):
        outcome, _, reason = key.partition(":")
        rows.append({"step": "execute", "outcome": outcome, "reason": reason, "count": count})
    return rows


def dispatch_rows(report: DispatchReport) -> list[dict[str, Any]]:
    return [
        {
            "step": "dispatch",
            "outcome": row["outcome"],
            "reason": row["reason"],
            "count": row["messages"],
        }
        for row in report.rows()
    ]
