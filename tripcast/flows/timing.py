"""The moment a flow run works for, and run names that say what ran."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def resolve_now(now: datetime | None) -> datetime:
    """``now`` as given (tests, replays), else the current instant; always aware."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. 2026-05-01T09:00:00Z)")
    return now.astimezone(UTC)


def run_name(flow: str) -> Any:
    """A flow_run_name callable: ``trip-reminders 2026-05-01 09:00Z``.

    The minute is the ``now`` parameter when given, else the run's scheduled time: a run
    scheduled for 10:41:00 that a worker starts at 10:40:59 is the 10:41 run.
    """

    def name() -> str:
        from prefect.runtime import flow_run

        raw = flow_run.parameters.get("now")
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
        if not isinstance(moment, datetime):
            moment = flow_run.scheduled_start_time  # now for a run without a schedule
        return f"{flow} {resolve_now(moment):%Y-%m-%d %H:%M}Z"

    return name
