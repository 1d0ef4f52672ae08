"""``tripcast worker``: check the setup, then become ``prefect worker start --pool tripcast``."""

from __future__ import annotations

import argparse
import os
from typing import Any

from tripcast.commands.runtime import migrated_engine, prepare_prefect_home


def worker_command(args: argparse.Namespace) -> list[str]:
    from tripcast.topology.prefect_api import POOL_NAME
    from tripcast.topology.setup import prefect_executable

    command = [prefect_executable(), "worker", "start", "--pool", POOL_NAME, "--type", "process"]
    if args.name:
        command += ["--name", args.name]
    if args.limit:
        command += ["--limit", str(args.limit)]
    return command


def _worker(args: argparse.Namespace) -> int:
    from tripcast.deployments.api_url import require_api_url
    from tripcast.topology.checkout import CHECKOUT_ENV, worker_checkout
    from tripcast.topology.prefect_api import check_api, check_pool
    from tripcast.topology.setup import HEARTBEAT_ENV, heartbeat_seconds

    # Local checks first: each failure is one line naming what to fix.
    checkout = worker_checkout()
    migrated_engine().dispose()
    api_url = require_api_url()
    check_api(api_url)
    check_pool(api_url)
    prepare_prefect_home()
    env = {**os.environ, "PREFECT_API_URL": api_url, CHECKOUT_ENV: str(checkout)}
    # Heartbeats let the server crash a run whose worker died (see deployments.zombies).
    env[HEARTBEAT_ENV] = str(heartbeat_seconds())
    command = worker_command(args)
    if args.check:
        print(f"ready: {' '.join(command[1:])} from {checkout}")
        return 0
    from tripcast.models.embedded import stop_embedded_servers

    # exec skips atexit: release the embedded server's handle now, or it would count
    # this pid as a user forever and never stop.
    stop_embedded_servers()
    os.chdir(checkout)
    os.execve(command[0], command, env)  # the worker takes this process's pid and signals


def register(commands: Any) -> None:
    worker = commands.add_parser(
        "worker", help="check the setup, then run a Prefect worker on the tripcast pool"
    )
    worker.add_argument("--name", help="the worker's name in the Prefect UI")
    worker.add_argument("--limit", type=int, help="flow runs at once on this worker")
    worker.add_argument(
        "--check", action="store_true", help="only check the setup, do not start the worker"
    )
    worker.set_defaults(handler=_worker)
