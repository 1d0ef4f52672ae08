"""``tripcast serve``: every deployment served from this machine."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from tripcast.commands.runtime import migrated_engine, prepare_prefect_home
from tripcast.settings import ConfigError, get_settings


def _serve(args: argparse.Namespace) -> int:
    from tripcast.metrics import serve_metrics
    from tripcast.settings import get_settings

    settings = get_settings()
    engine = migrated_engine()
    serve_metrics(engine, port=settings.metrics_port, host=settings.metrics_host)
    prepare_prefect_home()
    api_url = os.environ.get("PREFECT_API_URL", "").strip()
    if api_url:
        from tripcast.deployments.zombies import ensure_zombie_automation
        from tripcast.topology.prefect_api import check_api
        from tripcast.topology.setup import HEARTBEAT_ENV, heartbeat_seconds

        check_api(api_url.rstrip("/"))
        # As with workers: a run whose process died is crashed and frees its slot.
        os.environ[HEARTBEAT_ENV] = str(heartbeat_seconds())
        ensure_zombie_automation(heartbeat_seconds=heartbeat_seconds())
    from prefect import serve

    from tripcast.commands.dispatch import log_to_stderr, start_follower_thread
    from tripcast.deployments.catalog import runner_deployments

    # The always-on dispatcher runs beside the served deployments, so a committed
    # message is sent in about a second rather than at the next minute sweep.
    stop_follower = None
    if _may_follow(args):
        log_to_stderr()
        stop_follower = start_follower_thread(engine)
    try:
        # Schedules only fire with a Prefect server (`prefect server start`, then
        # PREFECT_API_URL); without one, Prefect's ephemeral API serves runs on demand.
        serve(*runner_deployments(), limit=args.limit)
    finally:
        if stop_follower is not None:
            stop_follower()
    return 0


def _may_follow(args: argparse.Namespace) -> bool:
    """Whether to run the follower here: asked for, and WhatsApp is configured (without
    it the deployments still serve; their dispatch fails with the same line)."""
    if not args.follow:
        return False
    try:
        get_settings().require("whatsapp_phone_number_id", "whatsapp_access_token")
    except ConfigError as error:
        print(f"tripcast: not running the dispatcher: {error}", file=sys.stderr)
        return False
    return True


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve every deployment from this machine")
    serve.add_argument("--limit", type=int, default=4, help="flow runs at once on this machine")
    serve.add_argument(
        "--no-follow",
        dest="follow",
        action="store_false",
        help="do not run the always-on dispatcher here (run `tripcast dispatch --follow`)",
    )
    serve.set_defaults(handler=_serve)
