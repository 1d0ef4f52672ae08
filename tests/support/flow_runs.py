"""Run a flow in process and keep both its return value and its flow run's id."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import Flow, State
from prefect.client.schemas.objects import FlowRun


def run_flow(flow: Flow[..., Any], /, **parameters: Any) -> tuple[Any, uuid.UUID]:
    """The value the run returned (from the call) and its flow run id (from a hook).

    Not ``return_state=True`` and ``state.result()``: a state the API hands back after a
    retried transition carries no data when results are not persisted."""
    runs: list[uuid.UUID] = []

    def remember(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
        runs.append(flow_run.id)

    value = flow.with_options(on_completion=[remember])(**parameters)
    (flow_run_id,) = runs
    return value, flow_run_id
