"""prefect.yaml and ``tripcast serve`` define the same deployments, and they register."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy.engine import Engine

from tests.support.net import free_port
from tripcast.deployments.catalog import DEPLOYMENTS, TIMEZONE

PREFECT_YAML = Path(__file__).parents[1] / "prefect.yaml"


def declared() -> dict[str, dict[str, object]]:
    document = yaml.safe_load(PREFECT_YAML.read_text())
    return {item["entrypoint"]: item for item in document["deployments"]}


def test_prefect_yaml_matches_the_catalog() -> None:
    in_yaml = declared()
    assert set(in_yaml) == {spec.entrypoint for spec in DEPLOYMENTS}
    for spec in DEPLOYMENTS:
        item = in_yaml[spec.entrypoint]
        assert item["name"] == spec.name
        assert tuple(item["tags"]) == spec.tags  # type: ignore[arg-type]
        assert item["description"] == spec.description
        if spec.cron is None:
            assert "schedules" not in item
        else:
            assert item["schedules"] == [{"cron": spec.cron, "timezone": TIMEZONE}]
        if spec.concurrency_limit is None:
            assert "concurrency_limit" not in item
        else:
            assert item["concurrency_limit"] == {
                "limit": spec.concurrency_limit,
                "collision_strategy": "CANCEL_NEW",
            }


def test_every_entrypoint_is_a_flow() -> None:
    from prefect import Flow

    for spec in DEPLOYMENTS:
        assert isinstance(spec.load(), Flow), spec.entrypoint


@pytest.mark.usefixtures("prefect_harness")
def test_serve_registers_every_deployment_with_its_schedule(engine: Engine, tmp_path: Path) -> None:
    import prefect.settings
    from prefect.client.orchestration import get_client

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPCAST_")}
    env["TRIPCAST_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    env["PREFECT_API_URL"] = str(prefect.settings.PREFECT_API_URL.value())
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    metrics_port = free_port()
    env["TRIPCAST_METRICS_PORT"] = str(metrics_port)
    env["TRIPCAST_METRICS_HOST"] = "127.0.0.1"
    process = subprocess.Popen(
        [sys.executable, "-m", "tripcast.cli", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    async def registered() -> dict[str, tuple[str | None, bool]]:
        async with get_client() as client:
            deployments = await client.read_deployments()
            found = {}
            for deployment in deployments:
                flow = await client.read_flow(deployment.flow_id)
                cron = deployment.schedules[0].schedule.cron if deployment.schedules else None
                limit = deployment.global_concurrency_limit
                found[f"{flow.name}/{deployment.name}"] = (cron, limit is not None)
            return found

    try:
        expected = {
            f"{spec.flow_name}/{spec.name}": (spec.cron, spec.concurrency_limit is not None)
            for spec in DEPLOYMENTS
        }
        deadline = time.monotonic() + 90
        found: dict[str, tuple[str | None, bool]] = {}
        while time.monotonic() < deadline:
            found = asyncio.run(registered())
            if set(expected) <= set(found):
                break
            time.sleep(1)
        assert {name: found.get(name) for name in expected} == expected
        assert_metrics_served(f"http://127.0.0.1:{metrics_port}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def assert_metrics_served(base: str) -> None:
    """``tripcast serve`` answers on TRIPCAST_METRICS_PORT (started before the deployments
    register, so it is up by now)."""
    from tests.metrics.support import parse, value

    with httpx.Client(trust_env=False, timeout=10) as http:
        assert http.get(base + "/healthz").status_code == 200
        ready = http.get(base + "/readyz")
        assert (ready.status_code, ready.text.startswith("ready: ")) == (200, True)
        samples = parse(http.get(base + "/metrics").text)
    assert value(samples, "tripcast_outbox_oldest_pending_seconds", category="utility") == 0
