from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tripcast.rules.config_errors import UnknownTimezone
from tripcast.rules.quiet_hours import in_window, quiet_hours_end, quiet_hours_end_for

LISBON, NEW_YORK, SYDNEY = "Europe/Lisbon", "America/New_York", "Australia/Sydney"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def end_of(now: datetime, start: str, end: str, timezone: str) -> datetime | None:
    return quiet_hours_end(
        now,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        timezone=timezone,
        enabled=True,
    )


@pytest.mark.parametrize(
    ("local", "start", "end", "inside"),
    [
        ("23:30", "22:00", "07:00", True),
        ("22:00", "22:00", "07:00", True),  # start is inclusive
        ("00:00", "22:00", "07:00", True),
        ("06:59", "22:00", "07:00", True),
        ("07:00", "22:00", "07:00", False),  # end is exclusive
        ("21:59", "22:00", "07:00", False),
        ("12:00", "22:00", "07:00", False),
        ("13:00", "13:00", "15:00", True),
        ("14:59", "13:00", "15:00", True),
        ("15:00", "13:00", "15:00", False),
        ("12:59", "13:00", "15:00", False),
        ("08:00", "08:00", "08:00", False),  # start == end: no window at all
        ("03:00", "08:00", "08:00", False),
    ],
)
def test_in_window(local: str, start: str, end: str, inside: bool) -> None:
    got = in_window(
        time.fromisoformat(local), start=time.fromisoformat(start), end=time.fromisoformat(end)
    )
    assert got is inside


@pytest.mark.parametrize(
    ("now", "start", "end", "timezone", "expected"),
    [
        # Lisbon summer (UTC+1), window crossing midnight
        (utc(2025, 6, 1, 22, 30), "22:00", "07:00", LISBON, utc(2025, 6, 2, 6)),
        (utc(2025, 6, 2, 5, 59), "22:00", "07:00", LISBON, utc(2025, 6, 2, 6)),
        (utc(2025, 6, 2, 6, 0), "22:00", "07:00", LISBON, None),  # 07:00 local: over
        (utc(2025, 6, 1, 20, 59), "22:00", "07:00", LISBON, None),  # 21:59 local
        (utc(2025, 6, 1, 21, 0), "22:00", "07:00", LISBON, utc(2025, 6, 2, 6)),  # 22:00 local
        (utc(2025, 6, 1, 23, 0), "00:00", "06:00", LISBON, utc(2025, 6, 2, 5)),  # 00:00 local
        # Lisbon winter (UTC+0), same-day window
        (utc(2025, 1, 10, 13, 30), "13:00", "15:00", LISBON, utc(2025, 1, 10, 15)),
        (utc(2025, 1, 10, 15, 0), "13:00", "15:00", LISBON, None),
        # start == end is no window
        (utc(2025, 1, 10, 8, 0), "08:00", "08:00", LISBON, None),
        # a "now" in another zone means the same instant
        (
            datetime(2025, 6, 1, 18, 30, tzinfo=ZoneInfo(NEW_YORK)),
            "22:00",
            "07:00",
            LISBON,
            utc(2025, 6, 2, 6),
        ),
        # seconds in the end time are kept
        (utc(2025, 1, 10, 6, 0), "22:00", "07:00:30", "UTC", utc(2025, 1, 10, 7, 0, 30)),
    ],
)
def test_quiet_hours_end(
    now: datetime, start: str, end: str, timezone: str, expected: datetime | None
) -> None:
    assert end_of(now, start, end, timezone) == expected


@pytest.mark.parametrize(
    ("now", "start", "end", "timezone", "expected"),
    [
        # Lisbon spring-forward 2025-03-30: 01:00 WET jumps to 02:00 WEST (01:00 UTC).
        # 01:30 does not exist: the window ends when the gap ends.
        (utc(2025, 3, 30, 0, 30), "00:00", "01:30", LISBON, utc(2025, 3, 30, 1)),
        (utc(2025, 3, 29, 23, 0), "22:00", "01:30", LISBON, utc(2025, 3, 30, 1)),
        # an end after the gap is an hour less away in UTC
        (utc(2025, 3, 29, 23, 0), "22:00", "07:00", LISBON, utc(2025, 3, 30, 6)),
        # Lisbon fall-back 2025-10-26: 02:00 WEST back to 01:00 WET; 01:00-02:00 twice.
        # first pass (WEST): the first 01:30, at 00:30 UTC
        (utc(2025, 10, 26, 0, 10), "00:00", "01:30", LISBON, utc(2025, 10, 26, 0, 30)),
        # 01:45 WEST is outside, 01:10 WET (second pass) is inside again
        (utc(2025, 10, 26, 0, 45), "00:00", "01:30", LISBON, None),
        (utc(2025, 10, 26, 1, 10), "00:00", "01:30", LISBON, utc(2025, 10, 26, 1, 30)),
        # New York spring-forward 2025-03-09: 02:00 EST jumps to 03:00 EDT (07:00 UTC)
        (utc(2025, 3, 9, 4, 0), "22:00", "02:30", NEW_YORK, utc(2025, 3, 9, 7)),
        (utc(2025, 3, 9, 4, 0), "22:00", "07:00", NEW_YORK, utc(2025, 3, 9, 11)),
        # New York fall-back 2025-11-02: 02:00 EDT back to 01:00 EST (06:00 UTC)
        (utc(2025, 11, 2, 3, 0), "22:00", "01:30", NEW_YORK, utc(2025, 11, 2, 5, 30)),
        (utc(2025, 11, 2, 5, 10), "22:00", "01:30", NEW_YORK, utc(2025, 11, 2, 5, 30)),
        # 01:10 EST, second pass: the EDT 01:30 is past, the EST 01:30 is next (never the past)
        (utc(2025, 11, 2, 6, 10), "22:00", "01:30", NEW_YORK, utc(2025, 11, 2, 6, 30)),
        (utc(2025, 11, 2, 3, 0), "22:00", "07:00", NEW_YORK, utc(2025, 11, 2, 12)),
        # Sydney fall-back 2025-04-06: 03:00 AEDT back to 02:00 AEST (16:00 UTC on the 5th)
        (utc(2025, 4, 5, 15, 10), "23:00", "02:30", SYDNEY, utc(2025, 4, 5, 15, 30)),
        (utc(2025, 4, 5, 16, 10), "23:00", "02:30", SYDNEY, utc(2025, 4, 5, 16, 30)),
        # Sydney spring-forward 2025-10-05: 02:00 AEST jumps to 03:00 AEDT (16:00 UTC on the 4th)
        (utc(2025, 10, 4, 13, 0), "22:00", "02:30", SYDNEY, utc(2025, 10, 4, 16)),
        (utc(2025, 10, 4, 13, 0), "22:00", "07:00", SYDNEY, utc(2025, 10, 4, 20)),
    ],
)
def test_quiet_hours_end_across_dst(
    now: datetime, start: str, end: str, timezone: str, expected: datetime | None
) -> None:
    assert end_of(now, start, end, timezone) == expected


def test_near_24_hour_windows_across_dst_are_pinned() -> None:
    """Documented edge cases of windows over 23 h long (why the 24 h property is bounded)."""
    # 03:00-02:30 across New York's fall-back lasts 24.5 real hours
    now = utc(2025, 11, 1, 7)  # 03:00 EDT
    assert end_of(now, "03:00", "02:30", NEW_YORK) == utc(2025, 11, 2, 7, 30)  # 02:30 EST
    # 02:30-02:15 on the spring-forward day: 02:15 does not exist, the window ends at
    # 03:00 EDT, a wall time that is itself inside the window, so a re-check defers again
    now = utc(2025, 3, 8, 8)  # 03:00 EST
    first = end_of(now, "02:30", "02:15", NEW_YORK)
    assert first == utc(2025, 3, 9, 7)
    assert end_of(first, "02:30", "02:15", NEW_YORK) == utc(2025, 3, 10, 6, 15)


def test_result_is_aware_utc() -> None:
    result = end_of(utc(2025, 6, 1, 22, 30), "22:00", "07:00", LISBON)
    assert result is not None
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("enabled", "start", "end"),
    [
        (False, time(0), time(23, 59)),
        (None, time(0), time(23, 59)),
        (True, None, time(23, 59)),
        (True, time(0), None),
    ],
)
def test_no_window_when_disabled_or_incomplete(
    enabled: bool | None, start: time | None, end: time | None
) -> None:
    now = utc(2025, 6, 1, 12)
    assert quiet_hours_end(now, start=start, end=end, timezone="UTC", enabled=enabled) is None


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        quiet_hours_end(
            datetime(2025, 6, 1, 23), start=time(22), end=time(7), timezone="UTC", enabled=True
        )


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "europe/lisbon", "", "America", "../x"])
def test_unknown_timezone_is_an_error_not_utc(timezone: str) -> None:
    with pytest.raises(UnknownTimezone, match="unknown timezone"):
        end_of(utc(2025, 6, 1, 23), "22:00", "07:00", timezone)


def test_null_timezone_means_utc() -> None:
    got = quiet_hours_end(
        utc(2025, 6, 1, 23), start=time(22), end=time(7), timezone=None, enabled=True
    )
    assert got == utc(2025, 6, 2, 7)


def test_aware_bounds_are_rejected() -> None:
    with pytest.raises(ValueError, match="naive local time"):
        quiet_hours_end(
            utc(2025, 6, 1, 23),
            start=time(22, tzinfo=UTC),
            end=time(7),
            timezone="UTC",
            enabled=True,
        )


@pytest.mark.parametrize(
    ("preferences", "expected"),
    [
        (None, None),  # seed defaults: quiet hours disabled
        ({}, None),
        (
            {
                "quiet_hours_enabled": True,
                "quiet_hours_start": time(22),
                "quiet_hours_end": time(7),
                "timezone": LISBON,
            },
            utc(2025, 6, 2, 6),
        ),
        (  # NULL timezone column → seed default UTC
            {
                "quiet_hours_enabled": True,
                "quiet_hours_start": time(22),
                "quiet_hours_end": time(7),
                "timezone": None,
            },
            utc(2025, 6, 2, 7),
        ),
        (
            {
                "quiet_hours_enabled": False,
                "quiet_hours_start": time(22),
                "quiet_hours_end": time(7),
            },
            None,
        ),
    ],
)
def test_quiet_hours_end_for_preferences_row(
    preferences: dict[str, object] | None, expected: datetime | None
) -> None:
    assert quiet_hours_end_for(utc(2025, 6, 1, 23), preferences) == expected


def test_preferences_with_non_time_bounds_are_rejected() -> None:
    row = {"quiet_hours_enabled": True, "quiet_hours_start": "22:00", "quiet_hours_end": time(7)}
    with pytest.raises(ValueError, match="quiet_hours_start must be a time"):
        quiet_hours_end_for(utc(2025, 6, 1, 23), row)


# --- properties ------------------------------------------------------------------------------

DST_ZONES = [
    "UTC",
    LISBON,
    NEW_YORK,
    SYDNEY,
    "Europe/Dublin",  # negative DST in the tz database
    "Australia/Lord_Howe",  # 30-minute DST
    "America/Santiago",
    "Pacific/Chatham",
    "Asia/Tehran",
    "Antarctica/Troll",  # 2-hour DST
]
minutes = st.integers(min_value=0, max_value=24 * 60 - 1)


def _transitions(timezone: str, year: int) -> list[datetime]:
    """UTC instants (to the minute) at which ``timezone`` changes offset during ``year``."""
    tz = ZoneInfo(timezone)
    found = []
    day = utc(year, 1, 1)
    while day.year == year:
        low, high = day, day + timedelta(days=1)
        if low.astimezone(tz).utcoffset() != high.astimezone(tz).utcoffset():
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                same = middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset()
                low, high = (middle, high) if same else (low, middle)
            found.append(high.replace(second=0, microsecond=0))
        day += timedelta(days=1)
    return found


NEAR_DST = [(zone, t) for zone in DST_ZONES for t in _transitions(zone, 2025)]
any_instant = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)
# (timezone, now): anywhere in time, or within 26 h of one of that zone's DST changes
zoned_instants = st.tuples(
    st.sampled_from(DST_ZONES) | st.timezone_keys(allow_prefix=False), any_instant
) | st.builds(
    lambda pair, offset: (pair[0], pair[1] + timedelta(minutes=offset)),
    st.sampled_from(NEAR_DST),
    st.integers(min_value=-26 * 60, max_value=26 * 60),
)


def _clock(minute: int) -> time:
    return time(minute // 60, minute % 60)


def _wall_length(start: int, end: int) -> int:
    return (end - start) % (24 * 60)


@settings(max_examples=400, deadline=None)
@given(case=zoned_instants, start=minutes, end=minutes)
def test_property_window_of_at_most_21_hours(
    case: tuple[str, datetime], start: int, end: int
) -> None:
    """Result > now, outside quiet hours, and < now + 24 h (windows up to 21 h long)."""
    timezone, now = case
    if start == end or _wall_length(start, end) > 21 * 60:
        return
    result = quiet_hours_end(
        now, start=_clock(start), end=_clock(end), timezone=timezone, enabled=True
    )
    local = now.astimezone(ZoneInfo(timezone)).time()
    assert (result is None) is not in_window(local, start=_clock(start), end=_clock(end))
    if result is None:
        return
    assert now < result < now + timedelta(hours=24)
    assert result.utcoffset() == timedelta(0)
    again = quiet_hours_end(
        result, start=_clock(start), end=_clock(end), timezone=timezone, enabled=True
    )
    assert again is None


@settings(max_examples=400, deadline=None)
@given(case=zoned_instants, start=minutes, end=minutes)
def test_property_any_window_ends_after_now_within_its_length_plus_dst(
    case: tuple[str, datetime], start: int, end: int
) -> None:
    """Any window (up to 23:59 long) ends after now, at most its wall length + 2 h later.

    (Across a fall-back a window over 22 h long can last more than 24 real hours, so the
    24 h bound above only holds for shorter windows.)
    """
    timezone, now = case
    if start == end:
        return
    result = quiet_hours_end(
        now, start=_clock(start), end=_clock(end), timezone=timezone, enabled=True
    )
    if result is not None:
        assert now < result <= now + timedelta(minutes=_wall_length(start, end) + 120)
