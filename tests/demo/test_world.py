"""The demo's seeded world produces every outcome the summary is meant to show."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine

from tripcast.automations.execution import ExecutionSettings, execute_due_jobs
from tripcast.automations.plan_rules import plan_rules
from tripcast.demo.world import seed_world
from tripcast.whatsapp.phone import normalize_phone

DAY = date(2026, 6, 10)


def test_seeded_day_exercises_sends_skips_deferrals_and_updates(engine: Engine) -> None:
    with engine.begin() as connection:
        world = seed_world(connection, travellers=120, day=DAY)
    assert len(set(world.phones.values())) == 120
    assert all(normalize_phone(phone) == phone for phone in world.phones.values())
    assert world.undeliverable and world.chatty and world.stoppers
    outcomes: Counter[str] = Counter()
    start = datetime(2026, 6, 10, tzinfo=UTC)
    for hour in range(25):
        now = start + timedelta(hours=hour)
        plan_rules(engine, now=now, horizon=timedelta(hours=1))
        outcomes.update(execute_due_jobs(engine, now=now, settings=ExecutionSettings()).outcomes)
    for expected in (
        "completed:send_whatsapp",
        "completed:update_trip",
        "cancelled:opted_out",
        "cancelled:not_opted_in",
        "pending:quiet_hours",
    ):
        assert outcomes[expected] > 0, (expected, outcomes)
    with engine.connect() as connection:
        templates = dict(
            connection.exec_driver_sql(
                "SELECT metadata->'template'->>'name', count(*) FROM whatsapp_messages GROUP BY 1"
            ).all()
        )
    assert set(templates) >= {"trip_reminder", "budget_alert", "booking_nudge", "daily_digest"}
