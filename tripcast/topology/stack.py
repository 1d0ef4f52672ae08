"""``tripcast stack up`` / ``down``: the whole production topology on one machine.

``stack_processes`` is the list of what runs; everything else starts and stops it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tripcast.topology import processes
from tripcast.topology.processes import Process
from tripcast.topology.setup import HEARTBEAT_ENV, heartbeat_seconds, prefect_executable
from tripcast.topology.setup_error import SetupError

SERVER_START_SECONDS = 180.0
SETTLE_SECONDS = 3.0


@dataclass(frozen=True)
class StackPlan:
    host: str = "127.0.0.1"
    port: int = 4200
    workers: int = 2
    webhook_port: int = 8088
    embedded_database: bool = False
    prefect_database_url: str | None = None
    without: frozenset[str] = frozenset()

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"


def _tripcast(*args: str) -> list[str]:
    return [sys.executable, "-m", "tripcast.cli", *args]


def stack_processes(plan: StackPlan) -> list[Process]:
    """Every long-running process of the topology, in start order."""
    listed: list[Process] = []
    if plan.embedded_database:  # keeps the embedded PostgreSQL up while the stack runs
        listed.append(Process("database", [sys.executable, "-m", "tripcast.topology.hold"]))
    server_env = {}
    if plan.prefect_database_url:
        server_env["PREFECT_API_DATABASE_CONNECTION_URL"] = plan.prefect_database_url
    server = [prefect_executable(), "server", "start", "--host", plan.host]
    listed.append(Process("prefect-server", [*server, "--port", str(plan.port)], server_env))
    listed += [
        Process(f"worker-{n}", _tripcast("worker", "--name", f"tripcast-worker-{n}"))
        for n in range(1, plan.workers + 1)
    ]
    listed.append(Process("webhook", _tripcast("webhook", "--port", str(plan.webhook_port))))
    listed.append(Process("dispatcher", _tripcast("dispatch", "--follow")))
    return [process for process in listed if process.name.split("-")[0] not in plan.without]


def base_environment(plan: StackPlan, *, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)  # the server's alone
    env.update(
        TRIPCAST_HOME=str(home),
        PREFECT_HOME=str(home / "stack" / "prefect"),
        PREFECT_API_URL=plan.api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    env[HEARTBEAT_ENV] = str(heartbeat_seconds())
    return env


def wait_for_server(plan: StackPlan, *, state: Path, pid: int) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if not processes.is_alive(pid):
            line = processes.last_log_line(state, "prefect-server")
            raise SetupError(f"the Prefect server exited: {line}")
        try:
            if httpx.get(f"{plan.api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SetupError(f"the Prefect server did not answer on {plan.api_url} within 180 s")


def start_stack(
    plan: StackPlan, *, home: Path, cwd: Path, deploy: Sequence[str] | None = None
) -> list[str]:
    """Start everything (stopping what started if any part fails); one line per process."""
    state = home / "stack"
    state.mkdir(parents=True, exist_ok=True)
    if alive := processes.running(state):
        name, pid = alive[0]
        raise SetupError(f"the stack is already up ({name} pid {pid}): `tripcast stack down`")
    (state / processes.ORDER_FILE).unlink(missing_ok=True)
    env = base_environment(plan, home=home)
    try:
        return _start_all(plan, state=state, env=env, cwd=cwd, deploy=deploy)
    except BaseException:
        processes.stop_all(state, grace_seconds=10)
        raise


def _start_all(
    plan: StackPlan, *, state: Path, env: dict[str, str], cwd: Path, deploy: Sequence[str] | None
) -> list[str]:
    lines = []
    for process in stack_processes(plan):
        pid = processes.start(process, state=state, base_env=env, cwd=cwd)
        lines.append(f"{process.name}: pid {pid}")
        if process.name == "prefect-server":
            wait_for_server(plan, state=state, pid=pid)
            _run_deploy(deploy or _tripcast("deploy"), state=state, env=env, cwd=cwd)
    time.sleep(SETTLE_SECONDS)  # a process that cannot start exits within this
    for process in stack_processes(plan):
        pid = int(processes.pid_file(state, process.name).read_text())
        if not processes.is_alive(pid):
            line = processes.last_log_line(state, process.name)
            raise SetupError(f"{process.name} exited at start: {line}")
    return lines


def _run_deploy(command: Sequence[str], *, state: Path, env: dict[str, str], cwd: Path) -> None:
    import subprocess

    with processes.log_file(state, "deploy").open("ab") as log:
        done = subprocess.run(list(command), env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SetupError(f"tripcast deploy failed: {processes.last_log_line(state, 'deploy')}")
