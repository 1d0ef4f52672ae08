"""When things happen: local send times, cron ticks, and the dedupe key of each occurrence.

All returned instants are timezone-aware UTC ``datetime`` objects.

DST conventions (shared with ``quiet_hours``):

- a local time that does not exist on that day (spring-forward gap) resolves to the
  first valid instant after the gap, i.e. the transition itself: 02:30 on the day New
  York jumps from 02:00 to 03:00 becomes 03:00 EDT (07:00 UTC);
- a local time that occurs twice (fall-back) resolves to its first occurrence.

Cron ticks follow the same wall-clock rules: a tick whose local time falls in a gap fires
once, at the end of the gap; a local time repeated by a fall-back fires once, at its
first occurrence. Several gap ticks collapsing onto one instant yield a single tick.

Dedupe keys identify one occurrence of one rule for one subject. They are plain strings
so set-based SQL can build the same value (``rule_id::text || ':trip:' || ...``); UUIDs
are rendered in their canonical lower-case hyphenated form (as Postgres ``uuid::text``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Literal
from uuid import UUID

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from tripcast.rules._tz import first_instant, require_aware, zone

MAX_CRON_TICKS = 10_000
"""Default upper bound on the ticks ``cron_ticks`` returns before it raises."""

_CRON_PROBE_START = datetime(2000, 1, 1)  # noqa: DTZ001 - naive wall time on purpose


def local_instant(day: date, at: time, timezone: str) -> datetime:
    """The UTC instant of local wall time ``at`` on ``day`` in IANA ``timezone``.

    ``at`` must be naive (a wall time). DST gap → the instant the gap ends; a repeated
    hour → its first occurrence. Raises ``UnknownTimezone`` for an unknown zone name.
    """
    if at.tzinfo is not None:
        raise ValueError(f"at must be a naive local time, got {at.isoformat()}")
    return first_instant(datetime.combine(day, at), zone(timezone))


def validate_cron(expression: str) -> str:
    """Return ``expression`` with whitespace normalised, or raise ``ValueError``.

    Accepts exactly five fields (minute hour day-of-month month day-of-week) in croniter's
    syntax (ranges, steps, names, ``L``, ``#``); rejects seconds fields, ``@daily``-style
    nicknames and expressions that can never fire (``0 0 30 2 *``).
    """
    if not isinstance(expression, str):
        raise ValueError("must be a string")
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            "must be a 5-field cron expression (minute hour day month weekday), "
            f"found {len(fields)} field{'s' if len(fields) != 1 else ''}"
        )
    normalised = " ".join(fields)
    if not croniter.is_valid(normalised):
        raise ValueError("must be a valid cron expression")
    try:
        croniter(normalised, _CRON_PROBE_START).get_next(datetime)
    except (CroniterBadDateError, CroniterBadCronError):
        raise ValueError("must be a cron expression that can fire (this one never does)") from None
    return normalised


def cron_ticks(
    cron: str,
    *,
    timezone: str,
    after: datetime,
    until: datetime,
    max_ticks: int = MAX_CRON_TICKS,
) -> list[datetime]:
    """UTC instants in ``(after, until]`` at which ``cron`` fires in local ``timezone``.

    ``after`` and ``until`` must be aware. Raises ``ValueError`` for a bad expression or if
    the window holds more than ``max_ticks`` ticks (plan in shorter windows), and
    ``UnknownTimezone`` for an unknown zone.
    """
    require_aware(after, "after")
    require_aware(until, "until")
    try:
        expression = validate_cron(cron)
    except ValueError as exc:
        raise ValueError(f"cron {cron!r} {exc}") from None
    tz = zone(timezone)
    if until <= after:
        return []
    walker = croniter(expression, after.astimezone(tz).replace(tzinfo=None))
    ticks: list[datetime] = []
    while True:
        try:
            wall = walker.get_next(datetime)
        except CroniterBadDateError:
            return ticks
        instant = first_instant(wall, tz)
        if instant > until:
            return ticks
        if instant > after and (not ticks or instant > ticks[-1]):
            if len(ticks) == max_ticks:
                raise ValueError(
                    f"cron {expression!r} fires more than {max_ticks} times between "
                    f"{after.isoformat()} and {until.isoformat()}"
                )
            ticks.append(instant)


# --- dedupe keys ---------------------------------------------------------------------------


def _part(value: UUID | str | int, name: str) -> str:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"{name} must be a UUID, str or int, got {type(value).__name__}")
    text = str(value)
    try:
        return str(UUID(text))
    except ValueError:
        pass
    if not text or ":" in text or text != text.strip():
        raise ValueError(f"{name} must be non-empty, without ':' or surrounding blanks: {text!r}")
    return text


def trip_key(
    rule_id: UUID | str,
    trip_id: UUID | str,
    *,
    edge: Literal["start", "end"],
    day: date,
) -> str:
    """``{rule_id}:trip:{trip_id}:{edge}:{YYYY-MM-DD}`` for trip_start / trip_end rules.

    ``day`` is the trip's start (or end) date: moving the trip to another date is a new
    occurrence (a reminder for the new date), re-planning the same date is not.
    """
    if edge not in ("start", "end"):
        raise ValueError(f"edge must be 'start' or 'end', got {edge!r}")
    rule, trip = _part(rule_id, "rule_id"), _part(trip_id, "trip_id")
    return f"{rule}:trip:{trip}:{edge}:{day.isoformat()}"


def budget_key(rule_id: UUID | str, trip_id: UUID | str, *, threshold_percent: int) -> str:
    """``{rule_id}:budget:{trip_id}:{threshold_percent}``: one alert per trip and threshold.

    Spending dipping below and crossing the same threshold again is the same occurrence.
    """
    if isinstance(threshold_percent, bool) or not isinstance(threshold_percent, int):
        raise TypeError("threshold_percent must be an int")
    rule, trip = _part(rule_id, "rule_id"), _part(trip_id, "trip_id")
    return f"{rule}:budget:{trip}:{threshold_percent}"


def booking_key(rule_id: UUID | str, booking_id: UUID | str | int) -> str:
    """``{rule_id}:booking:{booking_id}``: one nudge per pending booking."""
    return f"{_part(rule_id, 'rule_id')}:booking:{_part(booking_id, 'booking_id')}"


def tick_key(rule_id: UUID | str, tick: datetime) -> str:
    """``{rule_id}:tick:{YYYY-MM-DDTHH:MM:SSZ}`` for schedule rules (tick in UTC, to the second).

    SQL equivalent of the suffix: ``to_char(tick at time zone 'UTC',
    'YYYY-MM-DD"T"HH24:MI:SS"Z"')``.
    """
    require_aware(tick, "tick")
    stamp = tick.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{_part(rule_id, 'rule_id')}:tick:{stamp}"
