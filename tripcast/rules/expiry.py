"""When an automation's reminder stops being true (DESIGN section 9, expiry defaults).

A trip reminder announces a day (the trip's start or end date, ``JobContext.day``):
"your trip starts tomorrow" is wrong once that day has begun in the traveller's
timezone. A reminder queued on the day itself ("starts today") stays true until the day
is over. Other automations announce no dated event: their messages get no expiry here
(the category defaults of the outbox trigger still apply).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from tripcast.rules._tz import first_instant, require_aware, zone
from tripcast.rules.config_errors import UnknownTimezone

DATED_TRIGGERS = ("trip_start", "trip_end")


def reminder_expiry(
    trigger_type: str | None, day: date | None, *, timezone: str | None, now: datetime
) -> datetime | None:
    """The instant a reminder for ``day`` expires, or None when it announces no day."""
    require_aware(now, "now")
    if trigger_type not in DATED_TRIGGERS or day is None:
        return None
    try:
        tz = zone(timezone or "UTC")
    except UnknownTimezone:  # a broken preference must not lose the reminder
        tz = zone("UTC")
    day_begins = first_instant(datetime.combine(day, time(0)), tz)
    if now < day_begins:
        return day_begins
    return first_instant(datetime.combine(day + timedelta(days=1), time(0)), tz)
