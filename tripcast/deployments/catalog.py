"""Every deployment tripcast defines, in one place.

``tripcast serve`` serves these from one machine; ``prefect.yaml`` declares the same
names, entrypoints and schedules for ``prefect deploy`` (a test keeps the two in step).
All cron schedules are in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TIMEZONE = "UTC"


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str  # "module/path.py:flow_function"
    cron: str | None
    description: str
    tags: tuple[str, ...] = ("tripcast",)
    parameters: dict[str, Any] = field(default_factory=dict)
    # 1 = never two runs at once; a run due while one is active is cancelled.
    concurrency_limit: int | None = None

    @property
    def flow_name(self) -> str:
        return str(self.load().name)  # type: ignore[attr-defined]

    def load(self) -> Callable[..., Any]:
        import importlib

        path, function = self.entrypoint.split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        return getattr(module, function)


AUTOMATIONS = "tripcast/flows/automations.py"
COSTS = "tripcast/flows/costs.py"
EDGE = "tripcast/flows/edge.py"
INGEST = "tripcast/flows/ingest.py"
RERUNS = "tripcast/flows/reruns.py"
SENDERS = "tripcast/flows/senders.py"
TEMPLATES = "tripcast/flows/templates.py"
VERIFICATION = "tripcast/flows/verification.py"

DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        name="every-minute",
        entrypoint=f"{AUTOMATIONS}:minute_sweep",
        cron="* * * * *",
        description="Plan due automations, execute due jobs, dispatch pending messages.",
        tags=("tripcast", "sweep"),
        concurrency_limit=1,
    ),
    DeploymentSpec(
        name="hourly",
        entrypoint=f"{AUTOMATIONS}:trip_reminders",
        cron="0 * * * *",
        description="Plan trip_start / trip_end reminders due in the next 24 hours.",
        tags=("tripcast", "planning"),
        concurrency_limit=1,
    ),
    DeploymentSpec(
        name="every-5-minutes",
        entrypoint=f"{AUTOMATIONS}:budget_alerts",
        cron="*/5 * * * *",
        description="Plan budget alerts for trips whose spending reached a threshold.",
        tags=("tripcast", "planning"),
        concurrency_limit=1,
    ),
    DeploymentSpec(
        name="every-15-minutes",
        entrypoint=f"{AUTOMATIONS}:booking_nudges",
        cron="*/15 * * * *",
        description="Plan nudges for bookings still pending after the rule's hours.",
        tags=("tripcast", "planning"),
        concurrency_limit=1,
    ),
    DeploymentSpec(
        name="every-10-minutes",
        entrypoint=f"{AUTOMATIONS}:scheduled_messages",
        cron="*/10 * * * *",
        description="Plan scheduled (cron) messages due in the next hour.",
        tags=("tripcast", "planning"),
        concurrency_limit=1,
    ),
    DeploymentSpec(
        name="every-minute",
        entrypoint=f"{INGEST}:webhook_ingest",
        cron="* * * * *",
        description=(
            "Backstop of the receiver's immediate ingest: apply every stored webhook delivery."
        ),
        tags=("tripcast", "webhooks"),
        concurrency_limit=1,
    ),
    DeploymentSpec(
        name="hourly",
        entrypoint=f"{TEMPLATES}:refresh_template_catalog",
        cron="7 * * * *",
        description="Refresh the WhatsApp template catalog from the Cloud API's listing.",
        tags=("tripcast", "templates"),
        concurrency_limit=1,
    ),
    DeploymentSpec(
        name="hourly",
        entrypoint=f"{SENDERS}:refresh_senders",
        cron="17 * * * *",
        description=(
            "Read each sender's quality rating, messaging-limit tier and throughput from the "
            "Cloud API."
        ),
        tags=("tripcast", "senders"),
        concurrency_limit=1,
    ),
    DeploymentSpec(
        name="daily",
        entrypoint=f"{COSTS}:daily_costs",
        cron="20 0 * * *",
        description=(
            "Publish yesterday's billable WhatsApp messages and estimated cost per category "
            "and destination country."
        ),
        tags=("tripcast", "costs"),
        concurrency_limit=1,
    ),
    DeploymentSpec(
        name="on-demand",
        entrypoint=f"{EDGE}:send_whatsapp_message",
        cron=None,
        description="The seed's send-whatsapp-message: queue a text for an opted-in user, send it.",
        tags=("tripcast", "edge-function"),
    ),
    DeploymentSpec(
        name="on-demand",
        entrypoint=f"{EDGE}:trigger_automation",
        cron=None,
        description="The seed's trigger-automation: check every active rule, execute what is due.",
        tags=("tripcast", "edge-function"),
    ),
    DeploymentSpec(
        name="on-demand",
        entrypoint=f"{RERUNS}:rerun_failed",
        cron=None,
        description=(
            "Re-queue failed messages by time window, template, error code, user or rule "
            "(dry_run previews)."
        ),
        tags=("tripcast", "rerun"),
    ),
    DeploymentSpec(
        name="on-demand",
        entrypoint=f"{VERIFICATION}:start_phone_verification",
        cron=None,
        description="Send a traveller a one-time code to verify their WhatsApp number.",
        tags=("tripcast", "verification"),
    ),
    DeploymentSpec(
        name="on-demand",
        entrypoint=f"{VERIFICATION}:confirm_phone_verification",
        cron=None,
        description="Check a traveller's one-time code; verified numbers are opted in.",
        tags=("tripcast", "verification"),
    ),
)


def runner_deployments() -> list[Any]:
    """``RunnerDeployment``s for ``prefect.serve``."""
    from prefect.client.schemas.objects import (
        ConcurrencyLimitConfig,
        ConcurrencyLimitStrategy,
    )
    from prefect.client.schemas.schedules import CronSchedule

    deployments = []
    for spec in DEPLOYMENTS:
        limit = None
        if spec.concurrency_limit is not None:
            limit = ConcurrencyLimitConfig(
                limit=spec.concurrency_limit,
                collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW,
            )
        schedules = [CronSchedule(cron=spec.cron, timezone=TIMEZONE)] if spec.cron else None
        deployments.append(
            spec.load().to_deployment(  # type: ignore[attr-defined]
                name=spec.name,
                description=spec.description,
                tags=list(spec.tags),
                parameters=spec.parameters,
                schedules=schedules,
                concurrency_limit=limit,
            )
        )
    return deployments
