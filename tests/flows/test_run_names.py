"""Flow runs are named after the minute they work for: ``now`` when given, else the
minute they were scheduled for (a worker may start a run a moment early)."""

from __future__ import annotations

from datetime import UTC, datetime

import prefect.runtime.flow_run
import pytest

from tripcast.flows.timing import run_name


def test_a_scheduled_run_started_early_is_named_after_its_scheduled_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prefect.runtime.flow_run, "parameters", {}, raising=False)
    scheduled = datetime(2026, 12, 2, 10, 41, tzinfo=UTC)
    monkeypatch.setattr(prefect.runtime.flow_run, "scheduled_start_time", scheduled, raising=False)
    # Whatever the clock says (10:40:59 when a worker starts the run early).
    assert run_name("minute-sweep")() == "minute-sweep 2026-12-02 10:41Z"


def test_a_run_for_a_given_instant_is_named_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        prefect.runtime.flow_run, "parameters", {"now": "2026-05-01T09:00:30+00:00"}, raising=False
    )
    scheduled = datetime(2026, 12, 2, 10, 41, tzinfo=UTC)
    monkeypatch.setattr(prefect.runtime.flow_run, "scheduled_start_time", scheduled, raising=False)
    assert run_name("trip-reminders")() == "trip-reminders 2026-05-01 09:00Z"
