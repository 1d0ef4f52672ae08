"""Crashed, not Running forever: the automation that ends flow runs whose process died.

A deployment's concurrency slot (limit 1, CANCEL_NEW for the sweep and the planners)
is held by its Running flow run; the flow-run process renews the slot's lease every
few minutes. When a worker dies with SIGKILL or its machine is lost, the run would stay
Running and every later run of that deployment would be Cancelled until the lease ran
out. Flow runs emit a heartbeat event every ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``
seconds; this automation marks a run Crashed when its heartbeats stop for
``HEARTBEATS_MISSED`` periods, and the Crashed state frees the slot at once.
"""

from __future__ import annotations

from datetime import timedelta

from tripcast.topology.setup import HEARTBEAT_SECONDS

AUTOMATION_NAME = "tripcast: crash flow runs whose heartbeats stopped"
HEARTBEATS_MISSED = 3


def zombie_automation(*, heartbeat_seconds: int = HEARTBEAT_SECONDS) -> object:
    """The automation Prefect documents for zombie flow runs, for tripcast's runs."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return Automation(
        name=AUTOMATION_NAME,
        description="A flow run that stopped sending heartbeats is marked Crashed, "
        "which frees its deployment's concurrency slot.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=heartbeat_seconds * HEARTBEATS_MISSED),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"no heartbeat for {heartbeat_seconds * HEARTBEATS_MISSED} s: "
                "its process died (worker killed or machine lost)",
            )
        ],
    )


def ensure_zombie_automation(*, heartbeat_seconds: int = HEARTBEAT_SECONDS) -> str:
    """Create the automation, or bring an existing one up to date; says which."""
    from prefect.automations import Automation

    wanted = zombie_automation(heartbeat_seconds=heartbeat_seconds)
    assert isinstance(wanted, Automation)
    try:
        existing: Automation = Automation.read(name=AUTOMATION_NAME)  # type: ignore[assignment]
    except ValueError:  # Prefect's "not found"
        wanted.create()
        return "created"
    wanted.id = existing.id
    wanted.update()
    return "updated"
