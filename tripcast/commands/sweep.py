"""``tripcast sweep [--now ISO8601]``: the minute sweep once, as the deployment runs it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tripcast.commands.runtime import migrated_engine, parse_now, prepare_prefect_home
from tripcast.settings import get_settings


def _sweep(args: argparse.Namespace) -> int:
    now = parse_now(args.now)
    if args.dispatch:
        get_settings().require("whatsapp_phone_number_id", "whatsapp_access_token")
    migrated_engine()
    prepare_prefect_home()
    from prefect import tags

    from tripcast.flows.automations import minute_sweep

    with tags("tripcast", "sweep", "cli"):
        state = minute_sweep(
            now=now, batch_size=args.batch_size, dispatch=args.dispatch, return_state=True
        )
    if not state.is_completed():
        reason = state.message or "see the Prefect UI"
        print(f"tripcast: sweep {state.type.value.lower()}: {reason}", file=sys.stderr)
        return 1
    print(json.dumps(state.result(), indent=2, sort_keys=True))
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
