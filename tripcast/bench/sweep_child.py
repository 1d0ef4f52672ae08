"""One ``tripcast sweep`` in this process, then its peak memory on the last line of output.

``python -m tripcast.bench.sweep_child [sweep options]``: the memory benchmark runs it in
a process of its own so that the peak resident set it reports is the sweep's alone.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

MARKER = "tripcast-bench-sweep "


def main() -> None:
    from tripcast.cli import main as tripcast

    code = tripcast(["sweep", *sys.argv[1:]])
    figures = {"exit": code, "peak_rss_kib": peak_rss_kib()}
    print(MARKER + json.dumps(figures), flush=True)


def peak_rss_kib() -> int:
    """This process's peak resident set since it started, in KiB.

    ``VmHWM`` where Linux has it: ``getrusage``'s ``ru_maxrss`` also counts the parent's
    peak when the process was started with ``vfork`` (as ``subprocess`` does), which
    would report the benchmark's own peak instead of the sweep's.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    main()
