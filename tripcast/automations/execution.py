"""Executing one batch of due jobs: claim, decide, act, record.

Cancellations, failures and deferrals of a batch are written together; each action runs
in its own transaction together with its job's completion, so a crash leaves a job
either untouched (and reclaimed after its lease) or done.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tripcast.automations import actions, sql
from tripcast.automations.claims import Lease, Outcome, claim_due_jobs, finish_jobs, touch_rules
from tripcast.automations.context import JobContext, load_job_contexts
from tripcast.automations.decisions import Act, Cancel, Decision, Defer, Fail, decide
from tripcast.rules.actions import (
    RunAiAgentAction,
    SendEmailAction,
    SendWhatsAppAction,
    UpdateTripAction,
)

MAX_JOB_ATTEMPTS = 5


@dataclass(frozen=True)
class ExecutionSettings:
    smtp_url: str | None = None
    email_from: str = "tripcast@localhost"
    max_attempts: int = MAX_JOB_ATTEMPTS
    # How a run_ai_agent action starts its deployment; the flows pass Prefect's.
    start_deployment: actions.StartDeployment | None = None


@dataclass
class BatchReport:
    claimed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def count(self, outcome: Outcome) -> None:
        reason = outcome.result.get("reason") or outcome.result.get("action") or ""
        self.outcomes[f"{outcome.status}:{reason}" if reason else outcome.status] += 1


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: up to 1, 2, 4 … minutes, capped at an hour."""
    ceiling = min(60.0 * 2 ** max(attempt - 1, 0), 3600.0)
    return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


def outcome_of(job: JobContext, decision: Decision) -> Outcome | None:
    """The outcome of a decision that needs no action; ``None`` for ``Act``."""
    if isinstance(decision, Cancel):
        return Outcome(
            job.job_id,
            "cancelled",
            {"outcome": "skipped", "reason": decision.reason},
            error_message=None,
        )
    if isinstance(decision, Fail):
        return Outcome(job.job_id, "failed", {"reason": "error"}, error_message=decision.reason)
    if isinstance(decision, Defer):
        result = {
            "outcome": "deferred",
            "reason": decision.reason,
            "until": decision.until.isoformat(),
        }
        return Outcome(job.job_id, "pending", result, deferred_until=decision.until)
    return None


def perform(
    connection: Connection,
    job: JobContext,
    decision: Act,
    *,
    now: datetime,
    settings: ExecutionSettings,
) -> dict[str, Any]:
    action = decision.rule.action
    if isinstance(action, SendWhatsAppAction):
        return actions.queue_whatsapp(
            connection,
            job,
            action,
            values=decision.values,
            category=decision.rule.category,
            now=now,
        )
    if isinstance(action, UpdateTripAction):
        return actions.update_trip(connection, job, action, now=now)
    if isinstance(action, SendEmailAction):
        if not settings.smtp_url:
            raise LookupError("send_email needs TRIPCAST_SMTP_URL")
        return actions.send_email(
            job,
            action,
            values=decision.values,
            smtp_url=settings.smtp_url,
            sender=settings.email_from,
        )
    if isinstance(action, RunAiAgentAction):
        return actions.start_agent(job, action, start_deployment=settings.start_deployment)
    raise AssertionError(f"unhandled action {type(action).__name__}")


def act(
    engine: Engine,
    job: JobContext,
    decision: Act,
    *,
    now: datetime,
    lease: Lease,
    settings: ExecutionSettings,
) -> Outcome:
    """Perform the action and complete the job in one transaction (or say why not)."""
    if job.previous_result.get("in_flight") == "send_email":
        return Outcome(
            job.job_id,
            "failed",
            {"reason": "outcome_unknown"},
            error_message="outcome unknown: an earlier attempt may have sent it",
        )
    if isinstance(decision.rule.action, SendEmailAction):
        with engine.begin() as connection:
            connection.exec_driver_sql(
                sql.MARK_EMAIL_IN_FLIGHT,
                {
                    "result": '{"in_flight": "send_email"}',
                    "id": job.job_id,
                    "owner": lease.owner,
                },
            )
    try:
        with engine.begin() as connection:
            result = perform(connection, job, decision, now=now, settings=settings)
            outcome = Outcome(job.job_id, "completed", result)
            finish_jobs(connection, [outcome], lease=lease)
            if job.rule_id is not None:
                touch_rules(connection, [job.rule_id], now=now)
            return outcome
    except actions.TransientActionError as error:
        if job.attempts >= settings.max_attempts:
            return Outcome(job.job_id, "failed", {"reason": "gave_up"}, error_message=str(error))
        result = {"outcome": "retry", "reason": "transient", "error": str(error)}
        return Outcome(
            job.job_id, "pending", result, deferred_until=now + retry_delay(job.attempts)
        )
    except LookupError as error:
        return Outcome(job.job_id, "failed", {"reason": "error"}, error_message=str(error))


def execute_batch(
    engine: Engine, *, now: datetime, lease: Lease, settings: ExecutionSettings, limit: int
) -> BatchReport:
    """Claim up to ``limit`` due jobs and see each one to an outcome."""
    report = BatchReport()
    with engine.begin() as connection:
        job_ids = claim_due_jobs(connection, now=now, lease=lease, limit=limit)
    report.claimed = len(job_ids)
    if not job_ids:
        return report
    with engine.connect() as connection:
        jobs = load_job_contexts(connection, job_ids)
    settled: list[Outcome] = []
    for job in jobs:
        decision = decide(job, now=now)
        outcome = outcome_of(job, decision)
        if outcome is None:
            assert isinstance(decision, Act)
            outcome = act(engine, job, decision, now=now, lease=lease, settings=settings)
        if outcome.status != "completed":
            settled.append(outcome)
        report.count(outcome)
    with engine.begin() as connection:
        finish_jobs(connection, settled, lease=lease)
    return report


def execute_due_jobs(
    engine: Engine,
    *,
    now: datetime,
    settings: ExecutionSettings,
    batch_size: int = 200,
    lease: Lease | None = None,
    max_batches: int = 1000,
) -> BatchReport:
    """Execute due jobs batch after batch until none is left (or ``max_batches``)."""
    lease = lease or Lease.new()
    total = BatchReport()
    for _ in range(max_batches):
        report = execute_batch(engine, now=now, lease=lease, settings=settings, limit=batch_size)
        total.claimed += report.claimed
        total.outcomes.update(report.outcomes)
        if report.claimed < batch_size:
            break
    return total
