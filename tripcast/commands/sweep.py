"""``tripcast sweep [--now ISO8601]``: the minute sweep once, as the deployment runs it."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tripcast.commands.runtime import migrated_engine, parse_now, prepare_prefect_home


def _sweep(args: argparse.Namespace) -> int:
    now = parse_now(args.now)
    migrated_engine()
    prepare_prefect_home()
    from prefect import tags

    from tripcast.flows.automations import minute_sweep

    with tags("tripcast", "sweep", "cli"):
        state = minute_sweep(now=now, batch_size=args.batch_size, return_state=True)
    if not state.is_completed():
        print(
            f"tripcast: sweep {state.type.value.lower()}: {state.message or 'see the Prefect UI'}"
        )
        return 1
    print(json.dumps(state.result(), indent=2, sort_keys=True))
    return 0


def register(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep", help="run the minute sweep once: plan due automations, execute due jobs"
    )
    sweep.add_argument("--now", help="the instant to sweep for, ISO 8601 with a timezone")
    sweep.add_argument("--batch-size", type=int, default=200)
    sweep.set_defaults(handler=_sweep)
