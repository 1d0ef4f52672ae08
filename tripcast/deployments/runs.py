"""Starting a deployment's flow run: what a ``run_ai_agent`` rule action does."""

from __future__ import annotations

from typing import Any, cast


def start_deployment(name: str, *, parameters: dict[str, Any], idempotency_key: str) -> str:
    """Create a run of deployment ``name`` without waiting for it; the run's id.

    Raises ``LookupError`` when no such deployment exists on the server.
    """
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        flow_run = cast(
            FlowRun,
            run_deployment(
                name=name,
                parameters=parameters,
                timeout=0,
                idempotency_key=idempotency_key,
                as_subflow=False,
            ),
        )
    except ObjectNotFound:
        raise LookupError(f"Prefect deployment {name!r} does not exist") from None
    return str(flow_run.id)
