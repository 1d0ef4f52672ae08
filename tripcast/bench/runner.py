"""Running a selection of benchmarks, each on a fresh scratch database, in one run."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from tripcast.bench.benchmarks_md import BenchRun
from tripcast.bench.database import ScratchServer
from tripcast.bench.machine import Machine, describe_machine
from tripcast.bench.results import BenchResult, load_average
from tripcast.models.engine import create_db_engine
from tripcast.settings import Settings

BENCHMARKS = ("dispatch", "senders", "planning", "webhook", "scale", "memory", "latency")
SIZES = ("small", "full")


def run_benchmarks(
    settings: Settings,
    *,
    names: Sequence[str] = BENCHMARKS,
    size: str = "full",
    command: str = "tripcast bench",
    keep: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> BenchRun:
    """Run ``names`` in the canonical order; each gets a fresh clone of a migrated template."""
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown or size not in SIZES:
        raise ValueError(f"unknown benchmark or size: {', '.join(unknown) or size}")
    server = ScratchServer.from_settings(settings)
    try:
        server.prepare()
        run = BenchRun(command, size, _machine(server), server.describe())
        for name in (n for n in BENCHMARKS if n in names):
            progress(f"{name} ({size}) …")
            result = run_one(server, name, size=size)
            judged = (
                ("targets met" if result.met else "targets missed") if size == "full" else "done"
            )
            progress(f"{name}: {result.seconds:.0f} s, {judged}")
            run.results.append(result)
    finally:
        server.close(keep=keep)
    return run


def run_one(server: ScratchServer, name: str, *, size: str) -> BenchResult:
    module = importlib.import_module(f"tripcast.bench.{name}")
    load_before = load_average()
    started = time.perf_counter()
    result: BenchResult = module.run(server, size=size)
    result.seconds = time.perf_counter() - started
    result.load_before, result.load_after = load_before, load_average()
    return result


def _machine(server: ScratchServer) -> Machine:
    engine = create_db_engine(server.url(server.template), poolclass=sa.NullPool)
    try:
        return describe_machine(engine)
    finally:
        engine.dispose()
