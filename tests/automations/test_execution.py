"""The sweep's execution step on a real database, with explicit ``now``."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.support.world import (
    insert,
    make_account,
    make_rule,
    make_trip,
    make_user,
    set_preferences,
)
from tripcast.automations.claims import Lease, claim_due_jobs
from tripcast.automations.execution import ExecutionSettings, execute_due_jobs
from tripcast.automations.plan_rules import plan_rules

SETTINGS = ExecutionSettings()
REMINDER = {"template": "trip_reminder", "parameters": ["{trip.title}", "{trip.start_date}"]}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def traveller(
    engine: Engine,
    *,
    start: date,
    account: dict[str, Any] | None = None,
    preferences: dict[str, Any] | None = None,
    action_config: dict[str, Any] | None = None,
    action_type: str = "send_whatsapp",
    trigger: dict[str, Any] | None = None,
) -> dict[str, uuid.UUID]:
    """A traveller with a trip starting on ``start`` and a trip_start rule (1 day, 09:00)."""
    with engine.begin() as connection:
        user = make_user(connection)
        if account is not None:
            make_account(connection, user_id=user, **account)
        if preferences is not None:
            set_preferences(connection, user_id=user, **preferences)
        trip = make_trip(connection, user_id=user, start=start, title="Porto")
        rule = make_rule(
            connection,
            user_id=user,
            trigger_type="trip_start",
            trigger_config=trigger or {"days_before": 1, "send_at": "09:00"},
            action_type=action_type,
            action_config=action_config or REMINDER,
        )
    return {"user": user, "trip": trip, "rule": rule}


def sweep(engine: Engine, now: datetime, **settings: Any) -> dict[str, int]:
    plan_rules(engine, now=now)
    report = execute_due_jobs(engine, now=now, settings=ExecutionSettings(**settings))
    return dict(report.outcomes)


def job_of(engine: Engine, rule: uuid.UUID) -> dict[str, Any]:
    with engine.connect() as connection:
        row = (
            connection.exec_driver_sql(
                "SELECT * FROM scheduled_jobs WHERE automation_rule_id = %(r)s", {"r": rule}
            )
            .mappings()
            .one()
        )
    return dict(row)


def messages_of(engine: Engine, user: uuid.UUID) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT * FROM whatsapp_messages WHERE user_id = %(u)s", {"u": user}
        ).mappings()
        return [dict(row) for row in rows]


OPTED_IN = {"opt_in_status": "opted_in", "verified": True}


def test_due_reminder_queues_one_template_message(engine: Engine) -> None:
    world = traveller(engine, start=date(2026, 5, 2), account=OPTED_IN)
    now = at("2026-05-01T09:00:30+00:00")
    assert sweep(engine, now) == {"completed:send_whatsapp": 1}
    assert sweep(engine, now + timedelta(minutes=1)) == {}
    (message,) = messages_of(engine, world["user"])
    assert message["direction"] == "outbound"
    assert message["status"] == "pending"
    assert message["message_type"] == "template"
    assert message["content"] == "[trip_reminder] Porto | 2026-05-02"
    assert message["metadata"]["template"] == {
        "name": "trip_reminder",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Porto"},
                    {"type": "text", "text": "2026-05-02"},
                ],
            }
        ],
    }
    job = job_of(engine, world["rule"])
    assert job["status"] == "completed"
    assert job["result"]["message_id"] == str(message["id"])
    assert message["scheduled_job_id"] == job["id"]
    with engine.connect() as connection:
        touched = connection.exec_driver_sql(
            "SELECT last_triggered_at FROM automation_rules WHERE id = %(r)s", {"r": world["rule"]}
        ).scalar()
    assert touched == now


def test_a_trip_reminder_expires_when_the_day_it_announces_begins(engine: Engine) -> None:
    world = traveller(
        engine, start=date(2026, 5, 2), account=OPTED_IN, preferences={"timezone": "Europe/Lisbon"}
    )
    assert sweep(engine, at("2026-05-01T09:00:30+00:00")) == {"completed:send_whatsapp": 1}
    (message,) = messages_of(engine, world["user"])
    # Midnight in Lisbon (UTC+1 in May): "your trip starts tomorrow" is false from then.
    assert message["expires_at"] == at("2026-05-02T00:00:00+01:00")


@pytest.mark.parametrize(
    ("account", "preferences", "action_config", "reason"),
    [
        (None, None, None, "no_whatsapp_account"),
        ({"opt_in_status": "opted_out", "verified": True}, None, None, "opted_out"),
        ({"opt_in_status": "pending", "verified": True}, None, None, "not_opted_in"),
        ({"opt_in_status": "opted_in", "verified": False}, None, None, "account_not_verified"),
        (OPTED_IN, {"trip_reminders": False}, None, "category_disabled:trip_reminders"),
        (OPTED_IN, None, {**REMINDER, "category": "marketing"}, "marketing_not_allowed"),
    ],
)
def test_skips_are_cancelled_with_their_reason(
    engine: Engine,
    account: dict[str, Any] | None,
    preferences: dict[str, Any] | None,
    action_config: dict[str, Any] | None,
    reason: str,
) -> None:
    world = traveller(
        engine,
        start=date(2026, 5, 2),
        account=account,
        preferences=preferences,
        action_config=action_config,
    )
    assert sweep(engine, at("2026-05-01T09:00:00+00:00")) == {f"cancelled:{reason}": 1}
    job = job_of(engine, world["rule"])
    assert (job["status"], job["result"]) == ("cancelled", {"outcome": "skipped", "reason": reason})
    assert messages_of(engine, world["user"]) == []


def test_marketing_allowed_when_opted_into_marketing(engine: Engine) -> None:
    world = traveller(
        engine,
        start=date(2026, 5, 2),
        account=OPTED_IN,
        preferences={"marketing": True},
        action_config={**REMINDER, "category": "marketing"},
    )
    assert sweep(engine, at("2026-05-01T09:00:00+00:00")) == {"completed:send_whatsapp": 1}
    assert len(messages_of(engine, world["user"])) == 1


def test_quiet_hours_across_midnight_defer_then_send(engine: Engine) -> None:
    # 23:30 in Lisbon (UTC+0 in winter) is inside 22:00–07:00: deferred to 07:00 local.
    world = traveller(
        engine,
        start=date(2026, 1, 11),
        account=OPTED_IN,
        trigger={"days_before": 1, "send_at": "23:30"},
        preferences={
            "quiet_hours_enabled": True,
            "quiet_hours_start": time(22),
            "quiet_hours_end": time(7),
            "timezone": "Europe/Lisbon",
        },
    )
    now = at("2026-01-10T23:30:00+00:00")
    assert sweep(engine, now) == {"pending:quiet_hours": 1}
    job = job_of(engine, world["rule"])
    assert job["status"] == "pending"
    assert job["scheduled_for"] == at("2026-01-11T07:00:00+00:00")
    assert job["result"]["until"] == "2026-01-11T07:00:00+00:00"
    assert sweep(engine, at("2026-01-11T06:59:00+00:00")) == {}
    assert sweep(engine, at("2026-01-11T07:00:00+00:00")) == {"completed:send_whatsapp": 1}
    assert len(messages_of(engine, world["user"])) == 1


def test_quiet_hours_ending_in_dst_gap_defer_to_first_valid_instant(engine: Engine) -> None:
    # New York springs forward on 2026-03-08: 02:00–03:00 does not exist, so a window
    # ending at 02:30 ends at 03:00 EDT (07:00 UTC).
    world = traveller(
        engine,
        start=date(2026, 3, 9),
        account=OPTED_IN,
        trigger={"days_before": 1, "send_at": "01:30"},
        preferences={
            "quiet_hours_enabled": True,
            "quiet_hours_start": time(23),
            "quiet_hours_end": time(2, 30),
            "timezone": "America/New_York",
        },
    )
    assert sweep(engine, at("2026-03-08T06:30:00+00:00")) == {"pending:quiet_hours": 1}
    assert job_of(engine, world["rule"])["scheduled_for"] == at("2026-03-08T07:00:00+00:00")


def test_inactive_rule_and_moved_trip_cancel_planned_jobs(engine: Engine) -> None:
    paused = traveller(engine, start=date(2026, 5, 2), account=OPTED_IN)
    moved = traveller(engine, start=date(2026, 5, 2), account=OPTED_IN)
    plan_rules(engine, now=at("2026-05-01T08:50:00+00:00"))
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE automation_rules SET is_active = false WHERE id = %(r)s", {"r": paused["rule"]}
        )
        connection.exec_driver_sql(
            "UPDATE trips SET start_date = '2026-06-01' WHERE id = %(t)s", {"t": moved["trip"]}
        )
    report = execute_due_jobs(engine, now=at("2026-05-01T09:00:00+00:00"), settings=SETTINGS)
    assert dict(report.outcomes) == {"cancelled:rule_inactive": 1, "cancelled:trip_rescheduled": 1}


def test_rule_broken_after_planning_fails_its_job_with_reason(engine: Engine) -> None:
    world = traveller(engine, start=date(2026, 5, 2), account=OPTED_IN)
    plan_rules(engine, now=at("2026-05-01T08:50:00+00:00"))
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE automation_rules SET action_config = "
            '\'{"template": "Bad Name!"}\' WHERE id = %(r)s',
            {"r": world["rule"]},
        )
    report = execute_due_jobs(engine, now=at("2026-05-01T09:00:00+00:00"), settings=SETTINGS)
    assert dict(report.outcomes) == {"failed:error": 1}
    job = job_of(engine, world["rule"])
    assert job["status"] == "failed"
    assert job["error_message"].startswith("invalid rule: send_whatsapp action_config.template")


def test_update_trip_changes_whitelisted_fields(engine: Engine) -> None:
    world = traveller(
        engine,
        start=date(2026, 5, 2),
        action_type="update_trip",
        action_config={"fields": {"status": "upcoming", "metadata": {"reminded": True}}},
    )
    assert sweep(engine, at("2026-05-01T09:00:00+00:00")) == {"completed:update_trip": 1}
    with engine.connect() as connection:
        status, metadata = connection.exec_driver_sql(
            "SELECT status, metadata FROM trips WHERE id = %(t)s", {"t": world["trip"]}
        ).one()
    assert (status, metadata) == ("upcoming", {"reminded": True})


def test_concurrent_sweeps_queue_each_message_once(engine: Engine) -> None:
    worlds = [traveller(engine, start=date(2026, 5, 2), account=OPTED_IN) for _ in range(30)]
    now = at("2026-05-01T09:00:00+00:00")
    plan_rules(engine, now=now)
    barrier = threading.Barrier(3)
    reports = []

    def worker() -> None:
        barrier.wait()
        reports.append(execute_due_jobs(engine, now=now, settings=SETTINGS, batch_size=4))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.outcomes["completed:send_whatsapp"] for r in reports) == 30
    with engine.connect() as connection:
        per_user = connection.exec_driver_sql(
            "SELECT user_id, count(*) FROM whatsapp_messages GROUP BY user_id"
        ).all()
    assert sorted(count for _, count in per_user) == [1] * 30
    assert {user for user, _ in per_user} == {world["user"] for world in worlds}


def test_killed_workers_jobs_are_reclaimed_after_lease(engine: Engine) -> None:
    worlds = [traveller(engine, start=date(2026, 5, 2), account=OPTED_IN) for _ in range(3)]
    now = at("2026-05-01T09:00:00+00:00")
    plan_rules(engine, now=now)
    crashed = Lease(owner="sweep-crashed", duration=timedelta(minutes=5))
    with engine.begin() as connection:  # claims, then dies without finishing
        assert len(claim_due_jobs(connection, now=now, lease=crashed, limit=10)) == 3
    early = execute_due_jobs(engine, now=now + timedelta(minutes=4), settings=SETTINGS)
    assert early.claimed == 0
    late = execute_due_jobs(engine, now=now + timedelta(minutes=6), settings=SETTINGS)
    assert dict(late.outcomes) == {"completed:send_whatsapp": 3}
    for world in worlds:
        job = job_of(engine, world["rule"])
        assert (job["status"], job["attempts"], job["lease_owner"]) == ("completed", 2, None)
        assert len(messages_of(engine, world["user"])) == 1


def test_rule_less_job_takes_its_action_from_payload(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_account(connection, user_id=user)
        insert(
            connection,
            "scheduled_jobs",
            user_id=user,
            job_type="send_whatsapp",
            scheduled_for="2026-05-01T08:00:00Z",
            payload='{"action_config": {"template": "welcome"}}',
        )
        insert(
            connection,
            "scheduled_jobs",
            user_id=user,
            job_type="send_whatsapp",
            scheduled_for="2026-05-01T08:00:00Z",
        )
    report = execute_due_jobs(engine, now=at("2026-05-01T09:00:00+00:00"), settings=SETTINGS)
    assert dict(report.outcomes) == {"completed:send_whatsapp": 1, "failed:error": 1}
    (message,) = messages_of(engine, user)
    assert message["content"] == "[welcome]"
