"""One ``tripcast sweep`` in this process, then its peak memory on the last line of output.

``python -m tripcast.bench.sweep_child [sweep options]``: the memory benchmark runs it in
a process of its own so that the peak resident set it reports is the sweep's alone.
"""

from __future__ import annotations

import json
import resource
import sys

MARKER = "tripcast-bench-sweep "


def main() -> None:
    from tripcast.cli import main as tripcast

    code = tripcast(["sweep", *sys.argv[1:]])
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures = {"exit": code, "peak_rss_kib": own, "children_peak_rss_kib": children}
    print(MARKER + json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
