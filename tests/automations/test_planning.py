"""Planning turns each trigger's occurrences into exactly one job, with explicit ``now``."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Connection, Engine

from tests.support.world import insert, make_rule, make_trip, make_user, set_preferences
from tripcast.automations.active_rules import load_rule_configs
from tripcast.automations.plan_rules import plan_rules
from tripcast.automations.planning import PlanWindow, plan, stage_rules
from tripcast.rules.occurrences import tick_key


def run_planning(engine: Engine, now: datetime, **window: timedelta) -> dict[str, int]:
    return plan_rules(engine, now=now, **window).planned


def jobs(connection: Connection) -> list[dict[str, object]]:
    rows = connection.exec_driver_sql(
        "SELECT user_id, automation_rule_id, trip_id, job_type, scheduled_for, status, "
        "dedupe_key, payload FROM scheduled_jobs ORDER BY scheduled_for"
    )
    return [dict(row) for row in rows.mappings()]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_trip_start_fires_once_at_local_send_time_across_dst(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        set_preferences(connection, user_id=user, timezone="Europe/Lisbon")
        # Lisbon moves to summer time on 2026-03-29: 09:00 local that day is 08:00 UTC.
        trip = make_trip(connection, user_id=user, start=date(2026, 3, 30))
        rule = make_rule(
            connection,
            user_id=user,
            trigger_type="trip_start",
            trigger_config={"days_before": 1, "send_at": "09:00"},
        )
    counts = run_planning(engine, at("2026-03-29T07:50:00+00:00"))
    assert counts["trip_start"] == 1
    again = run_planning(engine, at("2026-03-29T07:51:00+00:00"))
    assert again["trip_start"] == 0
    with engine.connect() as connection:
        (job,) = jobs(connection)
    assert job["scheduled_for"] == at("2026-03-29T08:00:00+00:00")
    assert job["dedupe_key"] == f"{rule}:trip:{trip}:start:2026-03-30"
    assert (job["trip_id"], job["job_type"], job["status"]) == (trip, "send_whatsapp", "pending")


def test_trip_start_outside_window_is_not_planned(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_trip(connection, user_id=user, start=date(2026, 6, 10))
        make_trip(connection, user_id=user, start=date(2026, 5, 1))  # due weeks ago
        make_rule(
            connection, user_id=user, trigger_type="trip_start", trigger_config={"days_before": 3}
        )
    assert run_planning(engine, at("2026-06-06T12:00:00+00:00"))["trip_start"] == 0
    # 09:00 UTC on 2026-06-07 enters the window once the horizon reaches it.
    assert run_planning(engine, at("2026-06-07T08:50:00+00:00"))["trip_start"] == 1


def test_trip_end_and_unknown_timezone_falls_back_to_utc(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        set_preferences(connection, user_id=user, timezone="Mars/Olympus_Mons")
        make_trip(connection, user_id=user, start=date(2026, 7, 1), end=date(2026, 7, 8))
        make_rule(
            connection,
            user_id=user,
            trigger_type="trip_end",
            trigger_config={"days_after": 2, "send_at": "18:30"},
        )
    assert run_planning(engine, at("2026-07-10T18:20:00+00:00"))["trip_end"] == 1
    with engine.connect() as connection:
        (job,) = jobs(connection)
    assert job["scheduled_for"] == at("2026-07-10T18:30:00+00:00")


def test_booking_pending_only_for_bookings_still_pending(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        trip = make_trip(connection, user_id=user, start=date(2026, 9, 1))
        pending = insert(
            connection,
            "bookings",
            trip_id=trip,
            user_id=user,
            booking_type="hotel",
            created_at="2026-08-01T10:00:00Z",
        )
        insert(
            connection,
            "bookings",
            trip_id=trip,
            user_id=user,
            status="confirmed",
            created_at="2026-08-01T10:00:00Z",
        )
        rule = make_rule(
            connection,
            user_id=user,
            trigger_type="booking_pending",
            trigger_config={"hours": 48},
            action_config={"template": "booking_nudge"},
        )
    assert run_planning(engine, at("2026-08-03T09:50:00+00:00"))["booking_pending"] == 1
    assert run_planning(engine, at("2026-08-03T10:30:00+00:00"))["booking_pending"] == 0
    with engine.connect() as connection:
        (job,) = jobs(connection)
    assert job["scheduled_for"] == at("2026-08-03T10:00:00+00:00")
    assert job["dedupe_key"] == f"{rule}:booking:{pending}"


def test_budget_threshold_fires_once_per_trip_and_threshold(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        over = make_trip(connection, user_id=user, budget=1000)
        under = make_trip(connection, user_id=user, budget=1000)
        no_budget = make_trip(connection, user_id=user)
        for trip, amount in ((over, 600), (over, 350), (under, 200), (no_budget, 50)):
            insert(connection, "expenses", trip_id=trip, user_id=user, amount=amount)
        for threshold in (90, 100):
            make_rule(
                connection,
                user_id=user,
                trigger_type="budget_exceeded",
                trigger_config={"threshold_percent": threshold},
                action_config={"template": "budget_alert"},
            )
    now = at("2026-05-01T12:00:00+00:00")
    assert run_planning(engine, now)["budget_exceeded"] == 1  # 95% ≥ 90, < 100
    with engine.begin() as connection:
        insert(connection, "expenses", trip_id=over, user_id=user, amount=100)
    assert run_planning(engine, now + timedelta(minutes=1))["budget_exceeded"] == 1  # 105%
    assert run_planning(engine, now + timedelta(minutes=2))["budget_exceeded"] == 0
    with engine.connect() as connection:
        planned = jobs(connection)
    assert {job["payload"]["threshold"] for job in planned} == {90, 100}  # type: ignore[index]
    assert {job["trip_id"] for job in planned} == {over}


def test_schedule_ticks_in_rule_timezone_across_dst(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_rule(
            connection,
            user_id=user,
            trigger_type="schedule",
            trigger_config={"cron": "0 9 * * *", "timezone": "America/New_York"},
            action_config={"template": "daily_digest"},
        )
    # New York leaves daylight time on 2026-11-01: 09:00 is 13:00 UTC before, 14:00 after.
    assert run_planning(engine, at("2026-10-31T12:50:00+00:00"))["schedule"] == 1
    assert run_planning(engine, at("2026-11-01T13:50:00+00:00"))["schedule"] == 1
    assert run_planning(engine, at("2026-11-01T13:55:00+00:00"))["schedule"] == 0
    with engine.connect() as connection:
        planned = [job["scheduled_for"] for job in jobs(connection)]
    assert planned == [at("2026-10-31T13:00:00+00:00"), at("2026-11-01T14:00:00+00:00")]


def test_inactive_rules_plan_nothing(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_trip(connection, user_id=user, start=date(2026, 4, 2))
        make_rule(
            connection,
            user_id=user,
            trigger_type="trip_start",
            trigger_config={"days_before": 1},
            active=False,
        )
    assert run_planning(engine, at("2026-04-01T08:55:00+00:00"))["trip_start"] == 0


@pytest.mark.parametrize(
    ("trigger_config", "reason"),
    [
        ('{"days_before": "soon"}', "days_before"),
        ('{"days_before": 1, "sned_at": "09:00"}', "sned_at"),
        ('"days_before=1"', "not valid JSON"),
        ("[1]", "object"),
        ('{"days_before": 400}', "between 0 and 365"),
    ],
)
def test_malformed_rule_fails_alone_with_reason(
    engine: Engine, trigger_config: str, reason: str
) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_trip(connection, user_id=user, start=date(2026, 4, 2))
        broken = make_rule(
            connection, user_id=user, trigger_type="trip_start", trigger_config=trigger_config
        )
        make_rule(
            connection, user_id=user, trigger_type="trip_start", trigger_config={"days_before": 1}
        )
    now = at("2026-04-01T08:55:00+00:00")
    assert run_planning(engine, now)["trip_start"] == 1
    with engine.connect() as connection:
        error, when = connection.exec_driver_sql(
            "SELECT last_error, last_error_at FROM automation_rules WHERE id = %(id)s",
            {"id": broken},
        ).one()
    assert reason in error
    assert when == now


def test_concurrent_planners_create_nothing_twice(engine: Engine) -> None:
    with engine.begin() as connection:
        for _ in range(20):
            user = make_user(connection)
            for day in range(1, 6):
                make_trip(connection, user_id=user, start=date(2026, 4, 1) + timedelta(days=day))
            make_rule(
                connection,
                user_id=user,
                trigger_type="trip_start",
                trigger_config={"days_before": 0, "send_at": "00:00"},
            )
    now = at("2026-04-05T00:00:00+00:00")
    barrier = threading.Barrier(4)
    totals: list[int] = []

    def planner() -> None:
        barrier.wait()
        totals.append(run_planning(engine, now, horizon=timedelta(days=3))["trip_start"])

    threads = [threading.Thread(target=planner) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        planned = jobs(connection)
    # Of due instants 04-02 … 04-06 00:00, only 04-05 and 04-06 fall inside
    # (now - 24 h, now + 3 d]: two per traveller.
    assert len(planned) == 20 * 2
    assert sum(totals) == len(planned)
    assert len({job["dedupe_key"] for job in planned}) == len(planned)


def last_errors(engine: Engine) -> dict[object, str | None]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, last_error FROM automation_rules")
        return {row.id: row.last_error for row in rows}


def test_rules_sharing_a_configuration_are_validated_once_and_planned_each(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        for days_before in (1, 1, 1, 2):
            user = make_user(connection)
            make_trip(connection, user_id=user, start=date(2026, 4, 1) + timedelta(days_before))
            make_rule(
                connection,
                user_id=user,
                trigger_type="trip_start",
                trigger_config={"days_before": days_before, "send_at": "09:00"},
            )
    report = plan_rules(engine, now=at("2026-04-01T08:55:00+00:00"))
    assert (report.rules, report.configs, report.planned["trip_start"]) == (4, 2, 4)
    with engine.connect() as connection:
        planned = jobs(connection)
    assert len({job["automation_rule_id"] for job in planned}) == 4


def test_an_invalid_configuration_marks_every_rule_holding_it_and_clears_once_fixed(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        broken = [
            make_rule(
                connection,
                user_id=make_user(connection),
                trigger_type="trip_start",
                trigger_config={"days_before": 500},
            )
            for _ in range(2)
        ]
    now = at("2026-04-01T08:55:00+00:00")
    report = plan_rules(engine, now=now)
    assert sorted(str(rule.id) for rule in report.invalid) == sorted(map(str, broken))
    assert all("between 0 and 365" in (last_errors(engine)[rule] or "") for rule in broken)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE automation_rules SET trigger_config = '{\"days_before\": 5}' WHERE id = %(id)s",
            {"id": broken[0]},
        )
    again = plan_rules(engine, now=now + timedelta(minutes=1))
    assert [rule.id for rule in again.invalid] == [broken[1]]
    errors = last_errors(engine)
    assert errors[broken[0]] is None
    assert errors[broken[1]] is not None


def test_a_rule_edited_after_its_configuration_was_read_is_not_planned_with_it(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_trip(connection, user_id=user, start=date(2026, 4, 2))
        rule = make_rule(
            connection, user_id=user, trigger_type="trip_start", trigger_config={"days_before": 1}
        )
    window = PlanWindow(now=at("2026-04-01T08:55:00+00:00"))
    with engine.begin() as connection:
        configs = load_rule_configs(connection, trigger_types=["trip_start"])
        connection.exec_driver_sql(
            'UPDATE automation_rules SET trigger_config = \'{"days_before": "soon"}\' '
            "WHERE id = %(id)s",
            {"id": rule},
        )
        assert stage_rules(connection, configs) == 0
        assert plan(connection, configs, trigger_type="trip_start", window=window) == 0


def test_schedule_keys_match_tick_key_and_skip_ticks_before_the_rule_existed(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        rules = [
            make_rule(
                connection,
                user_id=make_user(connection),
                trigger_type="schedule",
                trigger_config={"cron": "*/10 * * * *", "timezone": "UTC"},
                action_config={"template": "daily_digest"},
                created_at=created,
            )
            for created in ("2026-05-01T10:55:00Z", "2026-05-01T11:25:00Z")
        ]
    report = plan_rules(engine, now=at("2026-05-01T11:40:00+00:00"))
    assert report.configs == 1
    with engine.connect() as connection:
        planned = {(job["automation_rule_id"], job["dedupe_key"]) for job in jobs(connection)}
    ticks = {rules[0]: ["11:00", "11:10", "11:20", "11:30", "11:40", "11:50"]}
    ticks[rules[1]] = ["11:30", "11:40", "11:50"]
    expected = {
        (rule, tick_key(rule, at(f"2026-05-01T{hhmm}:00+00:00")))
        for rule, hhmms in ticks.items()
        for hhmm in hhmms
    }
    assert planned == expected
