# ruff: noqa: E501 - case tables keep one case per line, with full one-line messages
from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from tripcast.rules.config_errors import InvalidRuleConfig
from tripcast.rules.triggers import (
    TRIGGER_TYPES,
    BookingPendingTrigger,
    BudgetExceededTrigger,
    ScheduleTrigger,
    TripEndTrigger,
    TripStartTrigger,
    budget_percent,
    parse_trigger_config,
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("trigger_type", "raw", "expected"),
    [
        ("trip_start", {"days_before": 1}, TripStartTrigger(days_before=1, send_at=time(9))),
        ("trip_start", '{"days_before": 0, "send_at": "18:30"}', TripStartTrigger(days_before=0, send_at=time(18, 30))),
        ("trip_start", b'{"days_before": 365, "send_at": "07:05:30"}', TripStartTrigger(days_before=365, send_at=time(7, 5, 30))),
        ("trip_start", {"days_before": 2.0}, TripStartTrigger(days_before=2)),  # JSON number
        ("trip_end", {"days_after": 3}, TripEndTrigger(days_after=3, send_at=time(9))),
        ("trip_end", {"days_after": 0, "send_at": "20:00"}, TripEndTrigger(days_after=0, send_at=time(20))),
        ("booking_pending", {"hours": 24}, BookingPendingTrigger(hours=24.0)),
        ("booking_pending", {"hours": 0.5}, BookingPendingTrigger(hours=0.5)),
        ("booking_pending", {"hours": 2160}, BookingPendingTrigger(hours=2160.0)),
        ("budget_exceeded", {"threshold_percent": 90}, BudgetExceededTrigger(threshold_percent=90)),
        ("budget_exceeded", {"threshold_percent": 1000}, BudgetExceededTrigger(threshold_percent=1000)),
        ("schedule", {"cron": "0 9 * * 1"}, ScheduleTrigger(cron="0 9 * * 1", timezone="UTC")),
        ("schedule", {"cron": " 0  9 * * 1 ", "timezone": "Europe/Lisbon"}, ScheduleTrigger(cron="0 9 * * 1", timezone="Europe/Lisbon")),
    ],
)  # fmt: skip
def test_valid_trigger_configs(trigger_type: str, raw: object, expected: object) -> None:
    assert parse_trigger_config(trigger_type, raw) == expected


PREFIX = "trip_start trigger_config"


@pytest.mark.parametrize(
    ("trigger_type", "raw", "message"),
    [
        ("trip_start", {"days_before": "soon"}, f"{PREFIX}.days_before must be an integer between 0 and 365, got 'soon'"),
        ("trip_start", {"days_before": "1"}, f"{PREFIX}.days_before must be an integer between 0 and 365, got '1'"),
        ("trip_start", {"days_before": True}, f"{PREFIX}.days_before must be an integer between 0 and 365, got True"),
        ("trip_start", {"days_before": 1.5}, f"{PREFIX}.days_before must be an integer between 0 and 365, got 1.5"),
        ("trip_start", {"days_before": -1}, f"{PREFIX}.days_before must be an integer between 0 and 365, got -1"),
        ("trip_start", {"days_before": 366}, f"{PREFIX}.days_before must be an integer between 0 and 365, got 366"),
        ("trip_start", {"days_before": None}, f"{PREFIX}.days_before must be an integer between 0 and 365, got None"),
        ("trip_start", {}, f"{PREFIX}.days_before is required"),
        ("trip_start", {"days_after": 1}, f"{PREFIX}.days_before is required (and 1 more problem)"),
        ("trip_start", {"days_before": 1, "when": "x"}, f"{PREFIX} has unknown field 'when' (allowed: days_before, send_at)"),
        ("trip_start", {"days_before": 1, "send_at": "25:00"}, f"{PREFIX}.send_at must be a local time written 'HH:MM' (24-hour clock), got '25:00'"),
        ("trip_start", {"days_before": 1, "send_at": "9am"}, f"{PREFIX}.send_at must be a local time written 'HH:MM' (24-hour clock), got '9am'"),
        ("trip_start", {"days_before": 1, "send_at": 32400}, f"{PREFIX}.send_at must be a local time written 'HH:MM' (24-hour clock), got 32400"),
        ("trip_start", {"days_before": 1, "send_at": "09:00+01:00"}, f"{PREFIX}.send_at must be a local time written 'HH:MM' (24-hour clock), got '09:00+01:00'"),
        ("trip_start", None, f"{PREFIX} must be a JSON object, got null"),
        ("trip_start", [1], f"{PREFIX} must be a JSON object, got an array"),
        ("trip_start", 7, f"{PREFIX} must be a JSON object, got a number"),
        ("trip_start", True, f"{PREFIX} must be a JSON object, got a boolean"),
        ("trip_start", '"days_before"', f"{PREFIX} must be a JSON object, got a string"),
        ("trip_start", "null", f"{PREFIX} must be a JSON object, got null"),
        ("trip_start", "{days_before: 1}", f"{PREFIX} is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("trip_start", "", f"{PREFIX} is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        ("trip_start", b"\xff", f"{PREFIX} is not UTF-8 JSON"),
        ("trip_start", {1: 2}, f"{PREFIX} keys must be strings, got 1"),
        ("trip_end", {"days_after": 400}, "trip_end trigger_config.days_after must be an integer between 0 and 365, got 400"),
        ("booking_pending", {"hours": 0}, "booking_pending trigger_config.hours must be a number of hours greater than 0 and at most 2160, got 0"),
        ("booking_pending", {"hours": 2161}, "booking_pending trigger_config.hours must be a number of hours greater than 0 and at most 2160, got 2161"),
        ("booking_pending", {"hours": "2"}, "booking_pending trigger_config.hours must be a number of hours greater than 0 and at most 2160, got '2'"),
        ("booking_pending", {"hours": float("nan")}, "booking_pending trigger_config.hours must be a number of hours greater than 0 and at most 2160, got nan"),
        ("budget_exceeded", {"threshold_percent": 0}, "budget_exceeded trigger_config.threshold_percent must be an integer between 1 and 1000, got 0"),
        ("budget_exceeded", {"threshold": 90}, "budget_exceeded trigger_config.threshold_percent is required (and 1 more problem)"),
        ("schedule", {"cron": "* * *"}, "schedule trigger_config.cron must be a 5-field cron expression (minute hour day month weekday), found 3 fields, got '* * *'"),
        ("schedule", {"cron": "0 9 * * * *"}, "schedule trigger_config.cron must be a 5-field cron expression (minute hour day month weekday), found 6 fields, got '0 9 * * * *'"),
        ("schedule", {"cron": "61 * * * *"}, "schedule trigger_config.cron must be a valid cron expression, got '61 * * * *'"),
        ("schedule", {"cron": "0 0 30 2 *"}, "schedule trigger_config.cron must be a cron expression that can fire (this one never does), got '0 0 30 2 *'"),
        ("schedule", {"cron": 5}, "schedule trigger_config.cron must be a 5-field cron expression such as '0 9 * * 1', got 5"),
        ("schedule", {"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "schedule trigger_config.timezone must be an IANA timezone name such as 'Europe/Lisbon', got 'Mars/Olympus'"),
        ("schedule", {"cron": "0 9 * * *", "timezone": "europe/lisbon"}, "schedule trigger_config.timezone must be an IANA timezone name such as 'Europe/Lisbon', got 'europe/lisbon'"),
        ("schedule", {"cron": "0 9 * * *", "timezone": None}, "schedule trigger_config.timezone must be an IANA timezone name such as 'Europe/Lisbon', got None"),
        ("schedule", {"timezone": "UTC"}, "schedule trigger_config.cron is required"),
        ("trip_begin", {"days_before": 1}, "unknown trigger_type 'trip_begin' (expected one of: trip_start, trip_end, booking_pending, budget_exceeded, schedule)"),
        (None, {}, "unknown trigger_type None (expected one of: trip_start, trip_end, booking_pending, budget_exceeded, schedule)"),
    ],
)  # fmt: skip
def test_invalid_trigger_configs(trigger_type: str, raw: object, message: str) -> None:
    with pytest.raises(InvalidRuleConfig) as caught:
        parse_trigger_config(trigger_type, raw)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_long_inputs_are_shortened_in_messages() -> None:
    with pytest.raises(InvalidRuleConfig) as caught:
        parse_trigger_config("trip_start", {"days_before": "x" * 500})
    assert len(str(caught.value)) < 160
    assert str(caught.value).endswith("...")


def test_invalid_rule_config_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="trip_start"):
        parse_trigger_config("trip_start", {})


def test_every_trigger_type_has_a_model() -> None:
    minimal = {
        "trip_start": {"days_before": 1},
        "trip_end": {"days_after": 1},
        "booking_pending": {"hours": 1},
        "budget_exceeded": {"threshold_percent": 90},
        "schedule": {"cron": "0 9 * * *"},
    }
    assert set(minimal) == set(TRIGGER_TYPES)
    for trigger_type, raw in minimal.items():
        assert parse_trigger_config(trigger_type, raw).model_dump(exclude_defaults=True) == raw


def test_configs_are_immutable() -> None:
    config = parse_trigger_config("trip_start", {"days_before": 1})
    assert isinstance(config, TripStartTrigger)
    with pytest.raises(ValueError, match="frozen"):
        config.days_before = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("config", "start", "timezone", "expected"),
    [
        (TripStartTrigger(days_before=1), date(2025, 6, 10), "Europe/Lisbon", utc(2025, 6, 9, 8)),
        (TripStartTrigger(days_before=0, send_at=time(18)), date(2025, 1, 10), "UTC", utc(2025, 1, 10, 18)),
        # the day before is Lisbon's spring-forward day, where 01:30 does not exist
        (TripStartTrigger(days_before=1, send_at=time(1, 30)), date(2025, 3, 31), "Europe/Lisbon", utc(2025, 3, 30, 1)),
        (TripStartTrigger(days_before=30), date(2025, 3, 1), "America/New_York", utc(2025, 1, 30, 14)),
    ],
)  # fmt: skip
def test_trip_start_due_at(
    config: TripStartTrigger, start: date, timezone: str, expected: datetime
) -> None:
    assert config.due_at(start, timezone=timezone) == expected


def test_trip_end_due_at() -> None:
    config = TripEndTrigger(days_after=2, send_at=time(10))
    assert config.due_at(date(2025, 4, 4), timezone="Australia/Sydney") == utc(2025, 4, 6, 0)


def test_booking_pending_due_at() -> None:
    config = BookingPendingTrigger(hours=1.5)
    assert config.due_at(utc(2025, 1, 1, 23)) == utc(2025, 1, 2, 0, 30)
    with pytest.raises(ValueError, match="timezone-aware"):
        config.due_at(datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("spent", "budget", "percent"),
    [
        (Decimal("90.00"), Decimal("100.00"), 90),
        (Decimal("89.99"), Decimal("100.00"), 89),  # rounded down
        (0, 100, 0),
        (250, 100, 250),
        (Decimal("0.1") + Decimal("0.2"), Decimal("0.3"), 100),
        (0.1 + 0.2, 0.3, 100),  # floats go through their shortest repr
        (10, 0, None),  # no budget
        (10, -5, None),
        (-10, 100, -10),  # refunds can make spending negative
    ],
)
def test_budget_percent(
    spent: Decimal | float, budget: Decimal | float, percent: int | None
) -> None:
    assert budget_percent(spent, budget) == percent


@pytest.mark.parametrize(
    ("threshold", "spent", "budget", "reached"),
    [
        (90, 90, 100, True),
        (90, Decimal("89.999"), 100, False),
        (90, 91, 100, True),
        (100, 100, 100, True),
        (150, 149, 100, False),
        (1, 1, 100, True),
        (90, 1_000_000, 0, False),  # no budget, no alert
    ],
)
def test_budget_reached(threshold: int, spent: Decimal | int, budget: int, reached: bool) -> None:
    assert BudgetExceededTrigger(threshold_percent=threshold).reached(spent, budget) is reached


@pytest.mark.parametrize("bad", [True, "90", None, float("inf"), Decimal("NaN")])
def test_budget_percent_rejects_non_numbers(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        budget_percent(bad, 100)  # type: ignore[arg-type]


def test_schedule_ticks_use_the_config_timezone() -> None:
    config = ScheduleTrigger(cron="0 9 * * *", timezone="Europe/Lisbon")
    ticks = config.ticks(after=utc(2025, 6, 1), until=utc(2025, 6, 3))
    assert ticks == [utc(2025, 6, 1, 8), utc(2025, 6, 2, 8)]
