"""The minute sweep's steps without Prefect: what ``tripcast sweep`` runs when no Prefect
server is configured, so that a one-off sweep costs its work and not a temporary
Prefect API. The ``minute-sweep`` flow runs the same steps as task runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from tripcast.automations.actions import StartDeployment
from tripcast.automations.execution import BatchReport, ExecutionSettings, execute_due_jobs
from tripcast.automations.plan_rules import PlanReport, plan_rules
from tripcast.dispatch.dispatcher import run_dispatch, utc_now
from tripcast.dispatch.run_report import DispatchReport
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.rules.clock import resolve_now
from tripcast.rules.triggers import TRIGGER_TYPES
from tripcast.settings import Settings

HORIZON = timedelta(minutes=15)
MAX_LATENESS = timedelta(hours=24)
MIN_DISPATCH_BATCH = 500
# Batches per dispatch task run: enough for the dispatcher's lanes to overlap one
# batch's database work with another's sends (one batch per task run dispatched ~290/s),
# few enough that the Prefect UI still shows progress through a large backlog.
BATCHES_PER_TASK_RUN = 20


def sweep_result(
    planned: PlanReport, executed: BatchReport, sent: DispatchReport
) -> dict[str, Any]:
    """What ``tripcast sweep`` prints and the flow returns."""
    return {
        "planned": planned.planned,
        "jobs": dict(executed.outcomes),
        "messages": {kind: n for kind, n in sent.counts().items() if n},
        "dispatch_batches": sent.batches,
    }


def execution_settings(
    settings: Settings, *, start_deployment: StartDeployment | None = None
) -> ExecutionSettings:
    return ExecutionSettings(
        smtp_url=settings.smtp_url.get_secret_value() if settings.smtp_url else None,
        email_from=settings.email_from,
        start_deployment=start_deployment,
    )


def sweep_once(
    engine: Engine,
    *,
    now: datetime | None,
    settings: Settings,
    batch_size: int,
    dispatch: bool,
    start_deployment: StartDeployment | None = None,
) -> dict[str, Any]:
    """Plan what is due soon, execute due jobs, send pending messages; in this process.

    ``now`` pins the clock (replays) as in the flow. Raises ``DispatchStopped`` when
    WhatsApp refuses the account.
    """
    moment = resolve_now(now)
    planned = plan_rules(
        engine,
        now=moment,
        trigger_types=list(TRIGGER_TYPES),
        horizon=HORIZON,
        max_lateness=MAX_LATENESS,
    )
    execution = execution_settings(settings, start_deployment=start_deployment)
    executed = execute_due_jobs(engine, now=moment, settings=execution, batch_size=batch_size)
    sent = DispatchReport()
    if dispatch:
        from tripcast.conversations.acknowledge import acknowledge_configured
        from tripcast.whatsapp.client import WhatsAppClient

        # As the flow does before sending: answered travellers' messages are marked read.
        acknowledge_configured(engine, now=moment, settings=settings)
        sent = dispatch_rounds(
            lambda: run_dispatch(
                engine,
                client_factory=lambda: WhatsAppClient.from_settings(settings),
                settings=DispatchSettings.from_settings(settings),
                now_fn=(lambda: now) if now is not None else utc_now,
                batch_size=max(batch_size, MIN_DISPATCH_BATCH),
            )
        )
    return sweep_result(planned, executed, sent)


def dispatch_rounds(dispatch_round: Callable[[], DispatchReport]) -> DispatchReport:
    """Round after round until nothing is left to send now: a round ends early when
    sends miss their slots and go back to the queue. The flow's rounds are task runs."""
    total = DispatchReport()
    while True:
        report = dispatch_round()
        total.merge(report)
        if report.finished:
            return total
