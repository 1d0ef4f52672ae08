"""A dispatcher in its own process, for tests that kill one mid-batch.

Reads one JSON line from stdin: the database URL, the client options and the dispatch
settings (the URL and token never go on the command line).
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta

from tripcast.dispatch import DispatchSettings, run_dispatch
from tripcast.models.engine import create_db_engine
from tripcast.whatsapp.client import WhatsAppClient


def main() -> None:
    job = json.loads(sys.stdin.readline())
    settings = job["settings"]
    settings["lease"] = timedelta(seconds=settings.pop("lease_seconds"))
    engine = create_db_engine(job["database_url"])
    report = run_dispatch(
        engine,
        client_factory=lambda: WhatsAppClient(**job["client"]),
        settings=DispatchSettings(**settings),
        batch_size=job["batch_size"],
        owner=job["owner"],
    )
    print(report.summary(), flush=True)


if __name__ == "__main__":
    main()
