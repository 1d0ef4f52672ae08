"""Where the machine's CPU went during a measurement: this process, its children (the
fake Cloud API, load generators), the local PostgreSQL processes, and everything else.

``psutil`` comes with ``pgserver`` (a dependency); without it the meter reports nothing.
A server on another machine is not seen: its work then shows in no group.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

try:
    import psutil
except ImportError:  # pragma: no cover - psutil arrives with pgserver
    psutil = None


def _busy(times: Any) -> float:
    return float(times.user + times.system)


def _snapshot() -> dict[str, float]:
    assert psutil is not None
    me = psutil.Process(os.getpid())
    groups = {"bench process": _busy(me.cpu_times()), "postgres": 0.0}
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)  # children already waited for
    groups["its children"] = ended.ru_utime + ended.ru_stime
    for child in me.children(recursive=True):
        try:
            if child.name() != "postgres":
                groups["its children"] += _busy(child.cpu_times())
        except psutil.Error:
            continue
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "postgres":
            try:
                groups["postgres"] += _busy(process.cpu_times())
            except psutil.Error:
                continue
    total = psutil.cpu_times()
    groups["machine"] = total.user + total.nice + total.system + total.irq + total.softirq
    return groups


@contextmanager
def cpu_meter() -> Iterator[dict[str, float]]:
    """Fills the yielded dict, on exit, with cores used per group over the block."""
    used: dict[str, float] = {}
    if psutil is None:
        yield used
        return
    before, started = _snapshot(), time.perf_counter()
    yield used
    after, elapsed = _snapshot(), time.perf_counter() - started
    if elapsed <= 0:
        return
    for group in before:
        used[group] = round(max(0.0, after[group] - before[group]) / elapsed, 2)
    mine = used["bench process"] + used["its children"] + used["postgres"]
    used["everything else"] = round(max(0.0, used.pop("machine") - mine), 2)


def describe(used: dict[str, float]) -> str:
    """``bench process 0.9, …`` in cores, for a note; empty when nothing was measured."""
    return ", ".join(f"{group} {cores:.2f}" for group, cores in used.items())
