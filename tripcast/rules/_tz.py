"""Timezone helpers shared by the rules: IANA lookup and wall-clock → instant resolution.

Conventions used everywhere in ``tripcast.rules``:

- a local wall time that does not exist on that day (DST gap, e.g. 02:30 in New York on
  the spring-forward Sunday) resolves to the first valid instant after the gap, that is
  the instant of the transition (03:00 EDT in that example);
- a wall time that occurs twice (DST fall-back) has two instants; callers pick the one
  they need (``first_instant`` picks the earlier one).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from tripcast.rules.config_errors import UnknownTimezone


@lru_cache(maxsize=1)
def _known_keys() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA key (case-sensitive, e.g. ``Europe/Lisbon``).

    Raises ``UnknownTimezone`` for anything else: unknown keys, wrong case, blanks,
    directories such as ``America`` and path tricks.
    """
    if not isinstance(name, str) or name not in _known_keys():
        raise UnknownTimezone(f"unknown timezone {name!r} (expected an IANA name such as 'UTC')")
    return ZoneInfo(name)


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` unchanged, or raise ``ValueError`` if it is naive."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _gap_end(naive: datetime, tz: ZoneInfo) -> datetime:
    """First instant whose local wall time is after ``naive`` (which lies in a DST gap)."""
    # Within a gap, fold=1 maps with the offset after the transition (an instant before
    # it) and fold=0 with the offset before (an instant after it): bisect on seconds.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if lo > hi:
        lo, hi = hi, lo
    steps = int((hi - lo).total_seconds())
    low, high = 0, steps
    while low < high:
        mid = (low + high) // 2
        if _wall(lo + timedelta(seconds=mid), tz) > naive:
            high = mid
        else:
            low = mid + 1
    return lo + timedelta(seconds=low)


def wall_instants(naive: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every aware-UTC instant whose local wall time in ``tz`` is ``naive``, earliest first.

    One instant normally, two in a fall-back hour, and for a wall time inside a DST gap
    the single instant the gap ends.
    """
    if naive.tzinfo is not None:
        raise ValueError("wall_instants expects a naive local datetime")
    found = sorted(
        {
            candidate
            for fold in (0, 1)
            if _wall(candidate := naive.replace(tzinfo=tz, fold=fold).astimezone(UTC), tz) == naive
        }
    )
    return found or [_gap_end(naive, tz)]


def first_instant(naive: datetime, tz: ZoneInfo) -> datetime:
    """The earliest instant for a local wall time (gap → the instant the gap ends)."""
    return wall_instants(naive, tz)[0]
