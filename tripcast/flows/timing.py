"""Run names that say what ran: the minute a flow run works for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tripcast.rules.clock import resolve_now


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
