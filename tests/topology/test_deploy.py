"""``tripcast deploy`` against a Prefect server: pool, deployments and the dead-run
automation, idempotently; a worker's checks then pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.topology.test_setup_errors import tripcast
from tripcast.deployments.catalog import DEPLOYMENTS
from tripcast.deployments.zombies import AUTOMATION_NAME

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def automations_named(api: str, name: str) -> list[dict[str, Any]]:
    body = {"automations": {"name": {"any_": [name]}}}
    response = httpx.post(f"{api}/automations/filter", json=body, timeout=10)
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found


def test_deploy_applies_everything_once_and_the_worker_checks_pass(
    engine: Engine, tmp_path: Path
) -> None:
    import prefect.settings

    api = str(prefect.settings.PREFECT_API_URL.value())
    first = tripcast(engine, "deploy", cwd=tmp_path, PREFECT_API_URL=api)
    assert first.returncode == 0, first.stderr
    assert "work pool tripcast: " in first.stdout  # created, or left by an earlier test
    applied = f": {len(DEPLOYMENTS)}\n"  # every deployment of the catalog (= prefect.yaml)
    assert "deployments applied from " in first.stdout and applied in first.stdout
    again = tripcast(engine, "deploy", cwd=tmp_path, PREFECT_API_URL=api)
    assert again.returncode == 0, again.stderr
    assert "work pool tripcast: exists" in again.stdout
    assert f"automation {AUTOMATION_NAME!r}: updated" in again.stdout
    [automation] = automations_named(api, AUTOMATION_NAME)
    trigger = automation["trigger"]
    assert trigger["posture"] == "Proactive" and trigger["within"] == 90.0
    [action] = automation["actions"]
    assert action["type"] == "change-flow-run-state" and action["state"] == "CRASHED"
    assert action["message"].startswith("no heartbeat for 90 s")
    check = tripcast(engine, "worker", "--check", cwd=tmp_path, PREFECT_API_URL=api)
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("ready: worker start --pool tripcast")
