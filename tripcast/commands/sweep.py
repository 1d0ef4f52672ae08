"""``tripcast sweep [--now ISO8601]``: the minute sweep once, as the deployment runs it.

With ``PREFECT_API_URL`` set the sweep is a ``minute-sweep`` flow run on that server,
visible in its UI. Without one it runs the same steps in this process, without Prefect:
starting a temporary Prefect API would cost a one-off sweep ten times its work.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import Any

from tripcast.commands.runtime import migrated_engine, parse_now, prepare_prefect_home, run_flow
from tripcast.settings import get_settings


def _sweep(args: argparse.Namespace) -> int:
    now = parse_now(args.now)
    settings = get_settings()
    if args.dispatch:
        settings.require("whatsapp_phone_number_id", "whatsapp_access_token")
    engine = migrated_engine()
    api_url = os.environ.get("PREFECT_API_URL", "").strip()
    if not api_url:
        from tripcast.automations.sweep import sweep_once
        from tripcast.deployments.runs import start_deployment
        from tripcast.dispatch.stopped import DispatchStopped

        try:
            result = sweep_once(
                engine,
                now=now,
                settings=settings,
                batch_size=args.batch_size,
                dispatch=args.dispatch,
                start_deployment=start_deployment,
            )
        except DispatchStopped as stopped:
            print(f"tripcast: sweep failed: {stopped}", file=sys.stderr)
            return 1
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    from tripcast.topology.prefect_api import check_api

    check_api(api_url.rstrip("/"))
    return _sweep_as_flow_run(now, args)


def _sweep_as_flow_run(now: datetime | None, args: argparse.Namespace) -> int:
    prepare_prefect_home()
    from prefect import tags

    from tripcast.flows.automations import minute_sweep

    with tags("tripcast", "sweep", "cli"):
        report = run_flow(
            lambda: minute_sweep(now=now, batch_size=args.batch_size, dispatch=args.dispatch),
            what="sweep",
        )
    if report is None:
        return 1
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


def register(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep", help="run the minute sweep once: plan, execute due jobs, dispatch messages"
    )
    sweep.add_argument("--now", help="the instant to sweep for, ISO 8601 with a timezone")
    sweep.add_argument("--batch-size", type=int, default=200)
    sweep.add_argument(
        "--no-dispatch",
        dest="dispatch",
        action="store_false",
        help="plan and execute only; leave queued messages for the next dispatch",
    )
    sweep.set_defaults(handler=_sweep)
