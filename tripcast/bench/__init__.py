"""Benchmarks (``tripcast bench``): measured speed beside this machine's ceiling.

Each benchmark runs on a scratch database of its own (see ``database``) and reports
``Figure``s, each beside a reference measured in the same run and its target:

- ``dispatch``: throughput with the rate lifted against a bare client, rate accuracy at
  80/s, and the seed's one-message-at-a-time design as a baseline;
- ``planning``: 100K trips × 5 rules into jobs, and the idempotent re-run;
- ``webhook``: acknowledgement latency under paced load, statuses applied per second;
- ``scale``: claiming due messages at 10K and 1M rows, with the query plan;
- ``memory``: the peak RSS of a sweep over a 100K backlog.
"""

from tripcast.bench.benchmarks_md import BenchRun, table, write_benchmarks
from tripcast.bench.results import BenchResult, Figure
from tripcast.bench.runner import BENCHMARKS, SIZES, run_benchmarks

__all__ = [
    "BENCHMARKS",
    "SIZES",
    "BenchResult",
    "BenchRun",
    "Figure",
    "run_benchmarks",
    "table",
    "write_benchmarks",
]
