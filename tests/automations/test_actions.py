"""send_email through a real local SMTP server, run_ai_agent through a real Prefect API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine

from tests.support.net import free_port
from tests.support.world import make_rule, make_trip, make_user
from tripcast.automations.execution import ExecutionSettings, execute_due_jobs
from tripcast.automations.plan_rules import plan_rules
from tripcast.deployments.runs import start_deployment

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
AGENTS = ExecutionSettings(start_deployment=start_deployment)  # as the flows pass it
EMAIL = {"subject": "{trip.title} starts tomorrow", "body": "Pack for {trip.destination}."}


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


def rule_world(engine: Engine, *, action_type: str, action_config: dict[str, Any]) -> uuid.UUID:
    with engine.begin() as connection:
        user = make_user(connection, email="ana@example.test")
        connection.exec_driver_sql(
            "UPDATE auth.users SET email = 'ana@example.test' WHERE id = %(u)s", {"u": user}
        )
        trip = make_trip(connection, user_id=user, start=date(2026, 5, 2), title="Porto")
        connection.exec_driver_sql(
            "UPDATE trips SET destination = 'Porto, PT' WHERE id = %(t)s", {"t": trip}
        )
        return make_rule(
            connection,
            user_id=user,
            trigger_type="trip_start",
            trigger_config={"days_before": 1},
            action_type=action_type,
            action_config=action_config,
        )


def job_row(engine: Engine, rule: uuid.UUID) -> dict[str, Any]:
    with engine.connect() as connection:
        return dict(
            connection.exec_driver_sql(
                "SELECT * FROM scheduled_jobs WHERE automation_rule_id = %(r)s", {"r": rule}
            )
            .mappings()
            .one()
        )


def test_send_email_reaches_the_smtp_server(engine: Engine, smtp_sink: tuple[str, Inbox]) -> None:
    url, inbox = smtp_sink
    rule = rule_world(engine, action_type="send_email", action_config=EMAIL)
    plan_rules(engine, now=NOW)
    report = execute_due_jobs(engine, now=NOW, settings=ExecutionSettings(smtp_url=url))
    assert dict(report.outcomes) == {"completed:send_email": 1}
    (mail,) = inbox.messages
    assert (mail["To"], mail["Subject"]) == ("ana@example.test", "Porto starts tomorrow")
    assert mail.get_payload().strip() == "Pack for Porto, PT."
    assert job_row(engine, rule)["result"]["to"] == "ana@example.test"


def test_smtp_outage_retries_later_then_sends(engine: Engine, smtp_sink: tuple[str, Inbox]) -> None:
    url, inbox = smtp_sink
    rule = rule_world(engine, action_type="send_email", action_config=EMAIL)
    plan_rules(engine, now=NOW)
    down = ExecutionSettings(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    assert dict(execute_due_jobs(engine, now=NOW, settings=down).outcomes) == {
        "pending:transient": 1
    }
    job = job_row(engine, rule)
    assert job["status"] == "pending"
    assert "SMTP server unreachable" in job["result"]["error"]
    assert NOW + timedelta(seconds=30) <= job["scheduled_for"] <= NOW + timedelta(minutes=1)
    later = job["scheduled_for"]
    report = execute_due_jobs(engine, now=later, settings=ExecutionSettings(smtp_url=url))
    assert dict(report.outcomes) == {"completed:send_email": 1}
    assert len(inbox.messages) == 1


def test_email_in_flight_when_worker_died_is_never_resent(
    engine: Engine, smtp_sink: tuple[str, Inbox]
) -> None:
    url, inbox = smtp_sink
    rule = rule_world(engine, action_type="send_email", action_config=EMAIL)
    plan_rules(engine, now=NOW)
    with engine.begin() as connection:  # a worker marked the send, then died
        connection.exec_driver_sql(
            "UPDATE scheduled_jobs SET status = 'running', lease_owner = 'dead', "
            'lease_expires_at = %(t)s, result = \'{"in_flight": "send_email"}\'',
            {"t": NOW - timedelta(minutes=1)},
        )
    report = execute_due_jobs(engine, now=NOW, settings=ExecutionSettings(smtp_url=url))
    assert dict(report.outcomes) == {"failed:outcome_unknown": 1}
    assert inbox.messages == []
    assert job_row(engine, rule)["error_message"].startswith("outcome unknown")


def test_send_email_without_smtp_configured_fails_clearly(engine: Engine) -> None:
    rule = rule_world(engine, action_type="send_email", action_config=EMAIL)
    plan_rules(engine, now=NOW)
    report = execute_due_jobs(engine, now=NOW, settings=ExecutionSettings())
    assert dict(report.outcomes) == {"failed:error": 1}
    assert job_row(engine, rule)["error_message"] == "send_email needs TRIPCAST_SMTP_URL"


@pytest.mark.usefixtures("prefect_harness")
def test_run_ai_agent_starts_the_configured_deployment_once(engine: Engine) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client

    @flow(name="itinerary-agent")
    def itinerary_agent(trip_hint: str) -> str:
        return trip_hint

    deployment_id = itinerary_agent.to_deployment(name="suggest").apply()
    config = {"deployment": "itinerary-agent/suggest", "parameters": {"trip_hint": "Porto"}}
    rule = rule_world(engine, action_type="run_ai_agent", action_config=config)
    plan_rules(engine, now=NOW)
    report = execute_due_jobs(engine, now=NOW, settings=AGENTS)
    assert dict(report.outcomes) == {"completed:run_ai_agent": 1}
    result = job_row(engine, rule)["result"]

    async def flow_run() -> Any:
        async with get_client() as client:
            return await client.read_flow_run(uuid.UUID(result["flow_run_id"]))

    import asyncio

    run = asyncio.run(flow_run())
    assert run.deployment_id == deployment_id
    assert run.parameters == {"trip_hint": "Porto"}


@pytest.mark.usefixtures("prefect_harness")
def test_run_ai_agent_with_missing_deployment_fails_with_reason(engine: Engine) -> None:
    config = {"deployment": "no-such-flow/nowhere", "parameters": {}}
    rule = rule_world(engine, action_type="run_ai_agent", action_config=config)
    plan_rules(engine, now=NOW)
    report = execute_due_jobs(engine, now=NOW, settings=AGENTS)
    assert dict(report.outcomes) == {"failed:error": 1}
    assert job_row(engine, rule)["error_message"] == (
        "Prefect deployment 'no-such-flow/nowhere' does not exist"
    )
