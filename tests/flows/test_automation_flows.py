"""The automation flows run as flows (Prefect test harness) and through ``.fn``."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy.engine import Engine

from tests.support.flow_runs import run_flow
from tests.support.world import insert, make_account, make_rule, make_trip, make_user
from tripcast.flows.automations import budget_alerts, minute_sweep, trip_reminders

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def seed_reminder_world(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_account(connection, user_id=user)
        make_trip(connection, user_id=user, start=date(2026, 5, 2), budget=100)
        make_rule(
            connection, user_id=user, trigger_type="trip_start", trigger_config={"days_before": 1}
        )
        opted_out = make_user(connection)
        make_account(connection, user_id=opted_out, opt_in_status="opted_out")
        make_trip(connection, user_id=opted_out, start=date(2026, 5, 2))
        make_rule(
            connection,
            user_id=opted_out,
            trigger_type="trip_start",
            trigger_config={"days_before": 1},
        )


def artifact_rows(flow_run_id: object) -> list[dict[str, object]]:
    async def read() -> list[dict[str, object]]:
        from prefect.client.schemas.filters import (
            ArtifactFilter,
            ArtifactFilterFlowRunId,
            FlowRunFilter,
            TaskRunFilter,
        )
        from prefect.client.schemas.sorting import ArtifactSort

        async with get_client() as client:
            artifacts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
                ),
                flow_run_filter=FlowRunFilter(),
                task_run_filter=TaskRunFilter(),
                sort=ArtifactSort.CREATED_DESC,
                limit=10,
            )
        import json

        (artifact,) = artifacts
        data = artifact.data
        return json.loads(data) if isinstance(data, str) else data  # type: ignore[return-value]

    return asyncio.run(read())


@pytest.mark.usefixtures("prefect_harness")
def test_minute_sweep_as_a_flow_run(configured: Engine, fake_whatsapp: Any) -> None:
    seed_reminder_world(configured)
    result, flow_run_id = run_flow(minute_sweep, now=NOW)
    assert result["planned"]["trip_start"] == 2
    assert result["jobs"] == {"completed:send_whatsapp": 1, "cancelled:opted_out": 1}
    assert result["messages"] == {"sent": 1}
    with configured.connect() as connection:
        message_id, status = connection.exec_driver_sql(
            "SELECT id, status FROM whatsapp_messages"
        ).one()
    assert status == "sent"
    assert fake_whatsapp.accepted_count(str(message_id)) == 1

    async def flow_run_name() -> str:
        async with get_client() as client:
            run = await client.read_flow_run(flow_run_id)
        return run.name

    assert asyncio.run(flow_run_name()) == "minute-sweep 2026-05-01 09:00Z"
    rows = artifact_rows(flow_run_id)
    assert {"step": "execute", "outcome": "cancelled", "reason": "opted_out", "count": 1} in rows
    assert {"step": "plan", "outcome": "planned", "reason": "trip_start", "count": 2} in rows
    assert {"step": "dispatch", "outcome": "sent", "reason": "template", "count": 1} in rows
    sender = f"{fake_whatsapp.phone_number_id} quality UNKNOWN, tier -"
    assert {"step": "sender", "outcome": "active", "reason": sender, "count": 1} in rows

    again = minute_sweep(now=NOW)
    assert again == {
        "planned": {k: 0 for k in result["planned"]},
        "jobs": {},
        "messages": {},
        "dispatch_batches": 0,
    }


@pytest.mark.usefixtures("prefect_harness")
def test_planner_flows_plan_their_own_triggers(configured: Engine) -> None:
    seed_reminder_world(configured)
    with configured.begin() as connection:
        user = make_user(connection)
        trip = make_trip(connection, user_id=user, budget=100)
        insert(connection, "expenses", trip_id=trip, user_id=user, amount=95)
        make_rule(
            connection,
            user_id=user,
            trigger_type="budget_exceeded",
            trigger_config={"threshold_percent": 90},
            action_config={"template": "budget_alert"},
        )
    assert budget_alerts(now=NOW) == {"budget_exceeded": 1}
    assert trip_reminders(now=datetime(2026, 4, 30, 12, tzinfo=UTC)) == {
        "trip_start": 2,
        "trip_end": 0,
    }


def test_flow_functions_run_without_an_orchestrator_via_fn(configured: Engine) -> None:
    """``.fn`` exercises the recipe itself: tasks are called as plain functions."""
    seed_reminder_world(configured)
    from tripcast.automations.plan_rules import plan_rules

    report = plan_rules(configured, now=NOW, trigger_types=["trip_start"])
    assert report.planned == {"trip_start": 2}


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        trip_reminders.fn(now=datetime(2026, 5, 1, 9))


def task_run_names(flow_run_id: object) -> list[str]:
    async def read() -> list[str]:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        async with get_client() as client:
            runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
        return sorted(run.name.rsplit("-", 1)[0] for run in runs)

    return asyncio.run(read())


@pytest.mark.usefixtures("prefect_harness")
def test_minute_sweep_dispatches_a_backlog_in_task_runs_of_many_batches(
    configured: Engine, fake_whatsapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tripcast.bench.dispatch_measure import seed
    from tripcast.settings import get_settings

    monkeypatch.setenv("TRIPCAST_SEND_RATE", "10000")
    get_settings.cache_clear()
    fake_whatsapp.set_config(throughput_per_second=None, enforce_service_window=False)
    seed(configured, 1100, offset=0)
    report, flow_run_id = run_flow(minute_sweep, now=None)
    # At 10,000/s some sends miss their slots and go back to the queue ("deferred") to
    # be claimed again; every message goes out once.
    assert report["messages"]["sent"] == 1100
    assert len(fake_whatsapp.accepted()) == 1100
    assert fake_whatsapp.duplicates() == {}
    # Task runs of many batches each (one batch per task run took one run per batch):
    # a task run ends early only when sends missed their slots and went back to the queue.
    task_runs = task_run_names(flow_run_id).count("dispatch-batch")
    assert task_runs < report["dispatch_batches"]
