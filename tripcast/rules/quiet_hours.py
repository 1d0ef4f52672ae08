"""Quiet hours: is ``now`` inside the traveller's quiet window, and when does it end?

The window is ``[start, end)`` in the traveller's local wall-clock time:

- ``start < end`` is a same-day window (13:00–15:00);
- ``start > end`` crosses midnight (22:00–07:00: 22:00 ≤ t or t < 07:00);
- ``start == end`` is treated as **no window** (an empty interval, not "all day"): a
  24-hour quiet window would defer notifications forever, and quiet hours may defer
  but never drop;
- disabled, or either bound NULL → no window.

Membership is judged on the local wall clock, so during a fall-back the repeated hour is
quiet (or not) both times. The end instant is the first instant after ``now`` at which
the wall clock shows ``end``: a fall-back repeat of ``end`` later the same night counts,
and an ``end`` that does not exist that day (spring-forward gap) becomes the instant the
gap ends (the first valid local time after it).

Windows longer than about 22 hours meet DST oddities: across a fall-back one can last
more than 24 real hours, and on a spring-forward day whose gap swallows the whole
outside period the end instant is itself inside the window (a re-check defers again).
Both still only defer.

An unknown timezone raises ``UnknownTimezone`` (no silent fallback to UTC: the caller
records the job as failed with that reason, visible and fixable, rather than waking a
traveller at the wrong hour). ``None`` is read as the seed default, 'UTC'.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta

from tripcast.rules._tz import require_aware, wall_instants, zone
from tripcast.rules.categories import preference


def in_window(local: time, *, start: time, end: time) -> bool:
    """Is local wall time ``local`` inside ``[start, end)`` (crossing midnight if start > end)?"""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_hours_end(
    now: datetime,
    *,
    start: time | None,
    end: time | None,
    timezone: str | None,
    enabled: bool | None,
) -> datetime | None:
    """The aware UTC instant the quiet window containing ``now`` ends, or ``None`` if ``now``
    is outside quiet hours (or they are disabled / empty).

    ``now`` must be timezone-aware (any zone); ``start``/``end`` are naive local times.
    """
    require_aware(now, "now")
    if not enabled or start is None or end is None or start == end:
        return None
    for bound, name in ((start, "start"), (end, "end")):
        if bound.tzinfo is not None:
            raise ValueError(f"quiet hours {name} must be a naive local time")
    tz = zone("UTC" if timezone is None else timezone)
    local = now.astimezone(tz)
    if not in_window(local.time(), start=start, end=end):
        return None
    today = local.date()
    candidates = [
        instant
        for day in (today, today + timedelta(days=1))
        for instant in wall_instants(datetime.combine(day, end), tz)
        if instant > now
    ]
    return min(candidates)


def _bound(preferences: Mapping[str, object] | None, key: str) -> time | None:
    value = preference(preferences, key)
    if value is None or isinstance(value, time):
        return value
    raise ValueError(f"{key} must be a time or NULL, got {type(value).__name__}")


def quiet_hours_end_for(now: datetime, preferences: Mapping[str, object] | None) -> datetime | None:
    """``quiet_hours_end`` reading a ``notification_preferences`` row (``None`` → seed defaults)."""
    return quiet_hours_end(
        now,
        start=_bound(preferences, "quiet_hours_start"),
        end=_bound(preferences, "quiet_hours_end"),
        timezone=str(preference(preferences, "timezone")),
        enabled=preference(preferences, "quiet_hours_enabled") is True,
    )
