"""Long-running processes of the stack: started in their own session (so that a stop
reaches their children, e.g. a worker's flow runs), with a pid file and a log each."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ORDER_FILE = "processes"


@dataclass(frozen=True)
class Process:
    """One line of the stack: a name, its command, what it adds to the environment."""

    name: str
    command: Sequence[str]
    env: dict[str, str] = field(default_factory=dict)


def pid_file(state: Path, name: str) -> Path:
    return state / f"{name}.pid"


def log_file(state: Path, name: str) -> Path:
    return state / f"{name}.log"


def is_alive(pid: int) -> bool:
    try:  # reap it if it is a child of this process that exited (else it stays a zombie)
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not this process's child: ask the kernel whether the pid exists
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running(state: Path) -> list[tuple[str, int]]:
    """(name, pid) of the stack's processes still alive, in start order."""
    order = state / ORDER_FILE
    names = order.read_text().split() if order.is_file() else []
    alive = []
    for name in names:
        path = pid_file(state, name)
        if path.is_file() and is_alive(pid := int(path.read_text())):
            alive.append((name, pid))
    return alive


def start(process: Process, *, state: Path, base_env: dict[str, str], cwd: Path) -> int:
    with log_file(state, process.name).open("ab") as log:
        child = subprocess.Popen(
            list(process.command),
            env={**base_env, **process.env},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file(state, process.name).write_text(str(child.pid))
    with (state / ORDER_FILE).open("a") as order:
        order.write(process.name + "\n")
    return child.pid


def last_log_line(state: Path, name: str) -> str:
    path = log_file(state, name)
    lines = path.read_text(errors="replace").strip().splitlines() if path.is_file() else []
    return lines[-1] if lines else "(no output)"


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def stop(name: str, pid: int, *, state: Path, grace_seconds: float) -> str:
    """SIGTERM the process's group, SIGKILL it after the grace period; says which ended it."""
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    how = "stopped"
    if is_alive(pid):
        _signal_group(pid, signal.SIGKILL)
        how = f"killed after {grace_seconds:g} s"
    pid_file(state, name).unlink(missing_ok=True)
    return how


def stop_all(state: Path, *, grace_seconds: float) -> list[str]:
    """Stop every running process of the stack, last started first; one line each."""
    lines = []
    for name, pid in reversed(running(state)):
        how = stop(name, pid, state=state, grace_seconds=grace_seconds)
        lines.append(f"{name} (pid {pid}): {how}")
    (state / ORDER_FILE).unlink(missing_ok=True)
    return lines
