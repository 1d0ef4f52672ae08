"""Driving the topology from outside, as an operator's tools would: the Prefect REST API,
the stack's pid files and logs, and waits on conditions with a deadline."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.support import net

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """``net.wait_for`` at four polls a second: the checks ask a Prefect server."""
    return net.wait_for(check, timeout=timeout, what=what, interval=0.25)


def flow_runs(api: str, flow: str, *, states: list[str] | None = None) -> list[dict[str, Any]]:
    """The flow's runs, newest expected start first."""
    body: dict[str, Any] = {
        "flows": {"name": {"any_": [flow]}},
        "sort": "EXPECTED_START_TIME_DESC",
        "limit": 200,
    }
    if states:
        body["flow_runs"] = {"state": {"type": {"any_": states}}}
    response = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10)
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    return runs


def flow_run(api: str, run_id: str) -> dict[str, Any]:
    response = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10)
    response.raise_for_status()
    run: dict[str, Any] = response.json()
    return run


def parent_pid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def worker_of(run_pid: int, workers: dict[str, int]) -> str:
    """The name of the worker whose process tree holds ``run_pid``."""
    by_pid = {pid: name for name, pid in workers.items()}
    pid = run_pid
    while pid > 1:
        if pid in by_pid:
            return by_pid[pid]
        pid = parent_pid(pid)
    raise AssertionError(f"flow run process {run_pid} belongs to no worker of the stack")


def kill_groups(*pids: int) -> None:
    """SIGKILL the process groups of ``pids`` (a worker and its flow-run processes)."""
    for group in {os.getpgid(pid) for pid in pids}:
        os.killpg(group, signal.SIGKILL)
