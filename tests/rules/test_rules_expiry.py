"""Reminder expiry: the instant a dated reminder stops being true."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tripcast.rules.expiry import reminder_expiry


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("trigger", "day", "timezone", "now", "expected"),
    [
        # the day before: expires when the announced day begins, in the traveller's zone
        ("trip_start", date(2026, 5, 2), "Europe/Lisbon", "2026-05-01T09:00Z",
         "2026-05-02T00:00+01:00"),
        ("trip_end", date(2026, 5, 9), "America/New_York", "2026-05-08T12:00Z",
         "2026-05-09T00:00-04:00"),
        # queued on the day itself ("starts today"): true until the day is over
        ("trip_start", date(2026, 5, 2), "UTC", "2026-05-02T08:00Z", "2026-05-03T00:00Z"),
        # a broken timezone preference falls back to UTC rather than losing the reminder
        ("trip_start", date(2026, 5, 2), "Mars/Olympus", "2026-05-01T09:00Z",
         "2026-05-02T00:00Z"),
        (None, date(2026, 5, 2), None, "2026-05-01T09:00Z", None),
        ("trip_start", date(2026, 5, 2), None, "2026-05-01T09:00Z", "2026-05-02T00:00Z"),
        ("budget_exceeded", None, "UTC", "2026-05-01T09:00Z", None),
        ("schedule", date(2026, 5, 2), "UTC", "2026-05-01T09:00Z", None),
    ],
)  # fmt: skip
def test_reminder_expiry(
    trigger: str | None, day: date | None, timezone: str | None, now: str, expected: str | None
) -> None:
    moment = reminder_expiry(trigger, day, timezone=timezone, now=at(now))
    assert moment == (at(expected) if expected else None)


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="now"):
        reminder_expiry("trip_start", date(2026, 5, 2), timezone="UTC", now=datetime(2026, 5, 1))
