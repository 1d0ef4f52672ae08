"""What ``tripcast deploy`` and ``tripcast worker`` do besides their checks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tripcast.topology.prefect_api import POOL_NAME, pool_exists
from tripcast.topology.setup_error import SetupError

HEARTBEAT_ENV = "PREFECT_FLOWS_HEARTBEAT_FREQUENCY"
# Prefect's minimum; set on every worker so a dead run is crashed (deployments.zombies).
HEARTBEAT_SECONDS = 30
DEPLOY_TIMEOUT_SECONDS = 600


def prefect_executable() -> str:
    """The ``prefect`` script of this environment (the locked install), not one on PATH."""
    return str(Path(sys.executable).with_name("prefect"))


def heartbeat_seconds(environ: Mapping[str, str] | None = None) -> int:
    env: Mapping[str, str] = os.environ if environ is None else environ
    raw = env.get(HEARTBEAT_ENV, "").strip()
    try:
        return int(raw) if raw else HEARTBEAT_SECONDS
    except ValueError:
        raise SetupError(f"{HEARTBEAT_ENV}={raw!r} is not a whole number of seconds") from None


def _prefect(*args: str, cwd: Path, api_url: str) -> str:
    env = {**os.environ, "PREFECT_API_URL": api_url}
    done = subprocess.run(
        [prefect_executable(), "--no-prompt", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEPLOY_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise SetupError(f"`prefect {' '.join(args)}` failed: {last}")
    return done.stdout


def ensure_pool(*, api_url: str, checkout: Path) -> str:
    if pool_exists(api_url, POOL_NAME):
        return "exists"
    _prefect("work-pool", "create", POOL_NAME, "--type", "process", cwd=checkout, api_url=api_url)
    return "created"


def deploy_all(*, api_url: str, checkout: Path) -> list[str]:
    """``prefect deploy --all`` from the checkout; the names of the deployments applied."""
    output = _prefect("deploy", "--all", cwd=checkout, api_url=api_url)
    return [
        line.split("'")[1] for line in output.splitlines() if "prefect deployment run '" in line
    ]
