"""``tripcast stack``: what it runs, and how it stops what it started."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.topology.support import wait_for
from tripcast.topology import processes
from tripcast.topology.processes import Process
from tripcast.topology.stack import StackPlan, stack_processes

IGNORES_SIGTERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "while True: time.sleep(1)\n"
)


def test_the_stack_lists_the_server_the_workers_and_the_receiver() -> None:
    names = [process.name for process in stack_processes(StackPlan(workers=3))]
    assert names == [
        "prefect-server",
        "worker-1",
        "worker-2",
        "worker-3",
        "webhook",
        "dispatcher",
    ]
    embedded = stack_processes(
        StackPlan(workers=1, embedded_database=True, without=frozenset({"webhook", "dispatcher"}))
    )
    assert [process.name for process in embedded] == ["database", "prefect-server", "worker-1"]
    server = stack_processes(StackPlan(port=4321, prefect_database_url="postgresql+asyncpg://x/p"))[
        0
    ]
    assert server.command[-2:] == ["--port", "4321"]
    assert server.env == {"PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://x/p"}


def test_stop_all_terminates_then_kills_after_the_grace_period(tmp_path: Path) -> None:
    polite = Process("polite", [sys.executable, "-c", "import time; time.sleep(600)"])
    stubborn = Process("stubborn", [sys.executable, "-c", IGNORES_SIGTERM])
    env = {"PATH": "/usr/bin:/bin"}
    pids = [
        processes.start(p, state=tmp_path, base_env=env, cwd=tmp_path) for p in (polite, stubborn)
    ]
    # The stubborn one must have installed its handler before the stop.
    log = processes.log_file(tmp_path, "stubborn")
    wait_for(lambda: "ready" in log.read_text(), timeout=30, what="the process ready")
    assert [name for name, _ in processes.running(tmp_path)] == ["polite", "stubborn"]
    lines = processes.stop_all(tmp_path, grace_seconds=1)
    assert lines == [
        f"stubborn (pid {pids[1]}): killed after 1 s",
        f"polite (pid {pids[0]}): stopped",
    ]
    assert not any(processes.is_alive(pid) for pid in pids)
    assert processes.running(tmp_path) == []
