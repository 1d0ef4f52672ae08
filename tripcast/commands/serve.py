"""``tripcast serve``: every deployment served from this machine."""

from __future__ import annotations

import argparse
import os
from typing import Any

from tripcast.commands.runtime import migrated_engine, prepare_prefect_home


def _serve(args: argparse.Namespace) -> int:
    migrated_engine()
    prepare_prefect_home()
    api_url = os.environ.get("PREFECT_API_URL", "").strip()
    if api_url:
        from tripcast.topology.prefect_api import check_api
        from tripcast.topology.setup import HEARTBEAT_ENV, heartbeat_seconds
        from tripcast.topology.zombies import ensure_zombie_automation

        check_api(api_url.rstrip("/"))
        # As with workers: a run whose process died is crashed and frees its slot.
        os.environ[HEARTBEAT_ENV] = str(heartbeat_seconds())
        ensure_zombie_automation(heartbeat_seconds=heartbeat_seconds())
    from prefect import serve

    from tripcast.deployments.catalog import runner_deployments

    # Schedules only fire with a Prefect server (`prefect server start`, then
    # PREFECT_API_URL); without one, Prefect's ephemeral API serves runs on demand.
    serve(*runner_deployments(), limit=args.limit)
    return 0


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve every deployment from this machine")
    serve.add_argument("--limit", type=int, default=4, help="flow runs at once on this machine")
    serve.set_defaults(handler=_serve)
