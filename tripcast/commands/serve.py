"""``tripcast serve``: every deployment served from this machine."""

from __future__ import annotations

import argparse
from typing import Any

from tripcast.commands.runtime import migrated_engine, prepare_prefect_home


def _serve(args: argparse.Namespace) -> int:
    from tripcast.metrics import serve_metrics
    from tripcast.settings import get_settings

    settings = get_settings()
    engine = migrated_engine()
    serve_metrics(engine, port=settings.metrics_port, host=settings.metrics_host)
    prepare_prefect_home()
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
