from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tripcast.rules.config_errors import UnknownTimezone
from tripcast.rules.occurrences import (
    booking_key,
    budget_key,
    cron_ticks,
    local_instant,
    tick_key,
    trip_key,
    validate_cron,
)

LISBON, NEW_YORK, SYDNEY = "Europe/Lisbon", "America/New_York", "Australia/Sydney"
RULE = UUID("3f2c8a52-6a7e-4d0b-9a53-1f0e7b7f2a10")
TRIP = UUID("9b1d6c1e-2f44-4e3a-8d2b-6a1c2e3f4d5e")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "at", "timezone", "expected"),
    [
        (date(2025, 6, 1), time(9), LISBON, utc(2025, 6, 1, 8)),  # WEST, UTC+1
        (date(2025, 1, 15), time(9), LISBON, utc(2025, 1, 15, 9)),  # WET, UTC+0
        (date(2025, 1, 15), time(9), "UTC", utc(2025, 1, 15, 9)),
        (date(2025, 1, 15), time(23, 30), SYDNEY, utc(2025, 1, 15, 12, 30)),  # AEDT, UTC+11
        # gaps: the first valid instant after the gap
        (date(2025, 3, 30), time(1, 30), LISBON, utc(2025, 3, 30, 1)),  # → 02:00 WEST
        (date(2025, 3, 9), time(2, 30), NEW_YORK, utc(2025, 3, 9, 7)),  # → 03:00 EDT
        (date(2025, 3, 9), time(2, 0), NEW_YORK, utc(2025, 3, 9, 7)),
        (date(2025, 10, 5), time(2, 30), SYDNEY, utc(2025, 10, 4, 16)),  # → 03:00 AEDT
        # just outside the gap is unaffected
        (date(2025, 3, 9), time(3, 0), NEW_YORK, utc(2025, 3, 9, 7)),
        (date(2025, 3, 9), time(1, 59), NEW_YORK, utc(2025, 3, 9, 6, 59)),
        # repeated hours: the first occurrence
        (date(2025, 10, 26), time(1, 30), LISBON, utc(2025, 10, 26, 0, 30)),  # WEST
        (date(2025, 11, 2), time(1, 30), NEW_YORK, utc(2025, 11, 2, 5, 30)),  # EDT
        (date(2025, 4, 6), time(2, 30), SYDNEY, utc(2025, 4, 5, 15, 30)),  # AEDT
    ],
)
def test_local_instant(day: date, at: time, timezone: str, expected: datetime) -> None:
    got = local_instant(day, at, timezone)
    assert got == expected
    assert got.utcoffset() == timedelta(0)


def test_local_instant_rejects_aware_time_and_unknown_zone() -> None:
    with pytest.raises(ValueError, match="naive local time"):
        local_instant(date(2025, 1, 1), time(9, tzinfo=UTC), "UTC")
    with pytest.raises(UnknownTimezone, match="'Europe/Atlantis'"):
        local_instant(date(2025, 1, 1), time(9), "Europe/Atlantis")


@pytest.mark.parametrize(
    ("expression", "normalised"),
    [
        ("0 9 * * *", "0 9 * * *"),
        ("  */15   8-18 * * mon-fri ", "*/15 8-18 * * mon-fri"),
        ("0 0 L * *", "0 0 L * *"),
        ("0 0 29 2 *", "0 0 29 2 *"),  # leap days only, but it does fire
    ],
)
def test_validate_cron_accepts(expression: str, normalised: str) -> None:
    assert validate_cron(expression) == normalised


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * *", "found 3 fields"),
        ("0 9 * * * *", "found 6 fields"),  # no seconds field
        ("@daily", "found 1 field"),
        ("", "found 0 fields"),
        ("60 * * * *", "valid cron expression"),
        ("0 25 * * *", "valid cron expression"),
        ("0 9 * * funday", "valid cron expression"),
        ("0 0 30 2 *", "never does"),
        ("0 0 31 4 *", "never does"),
    ],
)
def test_validate_cron_rejects(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_cron(expression)


@pytest.mark.parametrize(
    ("cron", "timezone", "after", "until", "expected"),
    [
        (  # bounds: (after, until]
            "0 9 * * *",
            "UTC",
            utc(2025, 1, 1, 9),
            utc(2025, 1, 3, 9),
            [utc(2025, 1, 2, 9), utc(2025, 1, 3, 9)],
        ),
        (  # daily 09:00 Lisbon moves from 09:00Z to 08:00Z over the spring change
            "0 9 * * *",
            LISBON,
            utc(2025, 3, 28),
            utc(2025, 4, 1),
            [utc(2025, 3, 28, 9), utc(2025, 3, 29, 9), utc(2025, 3, 30, 8), utc(2025, 3, 31, 8)],
        ),
        (  # 02:30 New York does not exist on 2025-03-09: fires once at 03:00 EDT
            "30 2 * * *",
            NEW_YORK,
            utc(2025, 3, 8),
            utc(2025, 3, 11),
            [utc(2025, 3, 8, 7, 30), utc(2025, 3, 9, 7), utc(2025, 3, 10, 6, 30)],
        ),
        (  # 01:30 New York happens twice on 2025-11-02: fires once, at the first
            "30 1 * * *",
            NEW_YORK,
            utc(2025, 11, 1, 12),
            utc(2025, 11, 3, 12),
            [utc(2025, 11, 2, 5, 30), utc(2025, 11, 3, 6, 30)],
        ),
        (  # every 15 min across the Lisbon gap: uniform in UTC, no doubles, none lost
            "*/15 * * * *",
            LISBON,
            utc(2025, 3, 30, 0),
            utc(2025, 3, 30, 2),
            [utc(2025, 3, 30, 0, 15 * i) for i in range(1, 4)]
            + [utc(2025, 3, 30, 1, 15 * i) for i in range(4)]
            + [utc(2025, 3, 30, 2)],
        ),
        (  # every 30 min across the Lisbon fall-back: the repeated wall times fire once
            "*/30 * * * *",
            LISBON,
            utc(2025, 10, 25, 23, 45),
            utc(2025, 10, 26, 2),
            [utc(2025, 10, 26, 0), utc(2025, 10, 26, 0, 30), utc(2025, 10, 26, 2)],
        ),
        (  # starting inside the second pass: wall times already fired are not repeated
            "*/30 * * * *",
            LISBON,
            utc(2025, 10, 26, 1, 5),
            utc(2025, 10, 26, 2),
            [utc(2025, 10, 26, 2)],
        ),
        (  # Sydney: weekly Sunday 02:30 falls in the October gap and the April repeat
            "30 2 * * sun",
            SYDNEY,
            utc(2025, 4, 1),
            utc(2025, 4, 14),
            [utc(2025, 4, 5, 15, 30), utc(2025, 4, 12, 16, 30)],
        ),
        (
            "30 2 * * sun",
            SYDNEY,
            utc(2025, 10, 1),
            utc(2025, 10, 13),
            [utc(2025, 10, 4, 16), utc(2025, 10, 11, 15, 30)],
        ),
        ("0 9 * * *", "UTC", utc(2025, 1, 2), utc(2025, 1, 1), []),  # empty window
        ("0 9 * * *", "UTC", utc(2025, 1, 1, 10), utc(2025, 1, 2, 8, 59), []),
        ("0 0 29 2 *", "UTC", utc(2025, 1, 1), utc(2025, 12, 31), []),  # no leap day in 2025
    ],
)
def test_cron_ticks(
    cron: str, timezone: str, after: datetime, until: datetime, expected: list[datetime]
) -> None:
    ticks = cron_ticks(cron, timezone=timezone, after=after, until=until)
    assert ticks == expected
    assert all(tick.utcoffset() == timedelta(0) for tick in ticks)


def test_cron_ticks_is_bounded() -> None:
    with pytest.raises(ValueError, match="more than 10000 times"):
        cron_ticks("* * * * *", timezone="UTC", after=utc(2025, 1, 1), until=utc(2025, 1, 11))
    with pytest.raises(ValueError, match="more than 3 times"):
        cron_ticks(
            "0 * * * *", timezone="UTC", after=utc(2025, 1, 1), until=utc(2025, 1, 2), max_ticks=3
        )
    exactly_three = cron_ticks(
        "0 * * * *", timezone="UTC", after=utc(2025, 1, 1), until=utc(2025, 1, 1, 3), max_ticks=3
    )
    assert len(exactly_three) == 3


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"cron": "* *", "timezone": "UTC"}, ValueError, "cron '\\* \\*' must be a 5-field"),
        ({"cron": "0 9 * * *", "timezone": "Nowhere"}, UnknownTimezone, "'Nowhere'"),
    ],
)
def test_cron_ticks_rejects_bad_input(
    kwargs: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        cron_ticks(**kwargs, after=utc(2025, 1, 1), until=utc(2025, 1, 2))  # type: ignore[arg-type]


def test_cron_ticks_rejects_naive_bounds() -> None:
    with pytest.raises(ValueError, match="after must be timezone-aware"):
        cron_ticks("0 9 * * *", timezone="UTC", after=datetime(2025, 1, 1), until=utc(2025, 1, 2))
    with pytest.raises(ValueError, match="until must be timezone-aware"):
        cron_ticks("0 9 * * *", timezone="UTC", after=utc(2025, 1, 1), until=datetime(2025, 1, 2))


# expression → an independent oracle for "does it fire at this wall-clock minute"
ORACLES: dict[str, Callable[[datetime], bool]] = {
    "*/7 * * * *": lambda t: t.minute % 7 == 0,
    "0 9 * * mon-fri": lambda t: (t.minute, t.hour) == (0, 9) and t.weekday() < 5,
    "15,45 */3 * * *": lambda t: t.minute in (15, 45) and t.hour % 3 == 0,
    "0 0 1 * *": lambda t: (t.minute, t.hour, t.day) == (0, 0, 1),
    "30 2 * * *": lambda t: (t.minute, t.hour) == (30, 2),
}


@settings(max_examples=60, deadline=None)
@given(
    expression=st.sampled_from(sorted(ORACLES)),
    after=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    hours=st.integers(min_value=0, max_value=72),
)
def test_property_utc_ticks_equal_brute_force(expression: str, after: datetime, hours: int) -> None:
    until = after + timedelta(hours=hours)
    minute = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    expected = []
    while minute <= until:
        if ORACLES[expression](minute):
            expected.append(minute)
        minute += timedelta(minutes=1)
    assert cron_ticks(expression, timezone="UTC", after=after, until=until) == expected


@settings(max_examples=60, deadline=None)
@given(
    expression=st.sampled_from(sorted(ORACLES)),
    timezone=st.sampled_from([LISBON, NEW_YORK, SYDNEY, "Australia/Lord_Howe"]),
    offset_hours=st.integers(min_value=-48, max_value=48),
    change=st.sampled_from([utc(2025, 3, 9, 7), utc(2025, 3, 30, 1), utc(2025, 4, 5, 15)])
    | st.sampled_from([utc(2025, 10, 4, 16), utc(2025, 10, 26, 1), utc(2025, 11, 2, 6)]),
)
def test_property_zoned_ticks_are_increasing_and_match_the_wall_clock(
    expression: str, timezone: str, offset_hours: int, change: datetime
) -> None:
    """Every tick is at a matching local wall time, or at a DST gap's end (a tick moved
    out of the gap); each matching wall time has its tick, except the second pass of a
    repeated hour."""
    after = change + timedelta(hours=offset_hours)
    until = after + timedelta(hours=30)
    ticks = cron_ticks(expression, timezone=timezone, after=after, until=until)
    tz = ZoneInfo(timezone)
    assert all(after < tick <= until for tick in ticks)
    assert ticks == sorted(set(ticks))
    for tick in ticks:
        before, at = (tick - timedelta(seconds=1)).astimezone(tz), tick.astimezone(tz)
        assert ORACLES[expression](at) or before.utcoffset() != at.utcoffset()
    minute = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while minute <= until:
        local = minute.astimezone(tz)
        repeated = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
        if ORACLES[expression](local) and (not repeated or local.fold == 0):
            assert minute in ticks
        minute += timedelta(minutes=1)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (
            trip_key(RULE, TRIP, edge="start", day=date(2025, 6, 1)),
            f"{RULE}:trip:{TRIP}:start:2025-06-01",
        ),
        (
            trip_key(str(RULE).upper(), str(TRIP), edge="end", day=date(2025, 6, 9)),
            f"{RULE}:trip:{TRIP}:end:2025-06-09",
        ),
        (budget_key(RULE, TRIP, threshold_percent=90), f"{RULE}:budget:{TRIP}:90"),
        (booking_key(RULE, TRIP), f"{RULE}:booking:{TRIP}"),
        (booking_key(RULE, 1234), f"{RULE}:booking:1234"),
        (booking_key(RULE, "bk_77"), f"{RULE}:booking:bk_77"),
        (tick_key(RULE, utc(2025, 3, 30, 1)), f"{RULE}:tick:2025-03-30T01:00:00Z"),
        (  # the same instant in another zone is the same key
            tick_key(RULE, datetime(2025, 3, 30, 2, tzinfo=ZoneInfo(LISBON))),
            f"{RULE}:tick:2025-03-30T01:00:00Z",
        ),
    ],
)
def test_occurrence_keys(key: str, expected: str) -> None:
    assert key == expected


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: booking_key(RULE, "a:b"), ValueError),
        (lambda: booking_key(RULE, ""), ValueError),
        (lambda: booking_key(RULE, " 12"), ValueError),
        (lambda: booking_key(RULE, True), TypeError),
        (lambda: booking_key(RULE, None), TypeError),  # type: ignore[arg-type]
        (lambda: tick_key(RULE, datetime(2025, 1, 1)), ValueError),
        (lambda: trip_key(RULE, TRIP, edge="middle", day=date(2025, 1, 1)), ValueError),  # type: ignore[arg-type]
        (lambda: budget_key(RULE, TRIP, threshold_percent=90.0), TypeError),  # type: ignore[arg-type]
    ],
)
def test_occurrence_keys_reject_ambiguous_parts(build: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        build()  # type: ignore[operator]
