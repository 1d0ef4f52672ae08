"""The moment a run works for: given (tests, replays) or now, always timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime


def resolve_now(now: datetime | None) -> datetime:
    """``now`` as given (tests, replays), else the current instant; always aware."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. 2026-05-01T09:00:00Z)")
    return now.astimezone(UTC)
