"""One always-on dispatcher (``dispatch.follow``) in a process of its own.

``python -m tripcast.bench.follow_child``: the dispatch benchmark starts two of these to
drain one backlog together, as two ``tripcast dispatch --follow`` processes would. Reads
one JSON line from stdin (database URL, client options, dispatch settings: never on the
command line), prints ``READY`` once it is running, follows until SIGTERM, then prints
its report after ``DONE``.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import Any

from tripcast.dispatch.follow import FollowOptions, follow
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.models.engine import create_db_engine
from tripcast.whatsapp.client import WhatsAppClient

READY = "tripcast-bench-follower ready"
DONE = "tripcast-bench-follower done "


async def run(job: dict[str, Any]) -> dict[str, Any]:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    engine = create_db_engine(job["database_url"], pool_size=10)
    settings = DispatchSettings(send_rate=None, max_in_flight=job["in_flight"], lanes=job["lanes"])
    try:
        async with WhatsAppClient(**job["client"]) as client:
            print(READY, flush=True)
            report = await follow(
                engine,
                client=client,
                settings=settings,
                stop=stop,
                options=FollowOptions(batch_size=job["batch_size"]),
                owner=job["owner"],
            )
    finally:
        engine.dispose()
    return {"claimed": report.claimed, "batches": report.batches, "counts": report.counts()}


def main() -> None:
    job = json.loads(sys.stdin.readline())
    figures = asyncio.run(run(job))
    print(DONE + json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
