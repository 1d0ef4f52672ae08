"""``tripcast stack up|down|status``: the production topology on this machine."""

from __future__ import annotations

import argparse
from typing import Any

from tripcast.settings import get_settings

GRACE_SECONDS = 20.0


def _home() -> Any:
    return get_settings().home.resolve()


def _migrated() -> Any:
    """Trying the stack on a fresh database should not need a separate step."""
    from tripcast.models import migrate
    from tripcast.models.engine import check_connection, get_engine

    engine = get_engine()
    check_connection(engine)
    migrate.upgrade(engine)
    return engine


def _up(args: argparse.Namespace) -> int:
    from tripcast.topology.checkout import installed_checkout
    from tripcast.topology.prefect_database import prefect_database_url
    from tripcast.topology.stack import StackPlan, start_stack

    # Every worker's flow runs send: fail here, not in each run.
    get_settings().require("whatsapp_phone_number_id", "whatsapp_access_token")
    engine = _migrated()
    database_url, where = prefect_database_url(engine)
    engine.dispose()
    plan = StackPlan(
        host=args.host,
        port=args.port,
        workers=args.workers,
        webhook_port=args.webhook_port,
        embedded_database=get_settings().database_url is None,
        prefect_database_url=database_url,
        without=frozenset(args.without),
    )
    home = _home()
    for line in start_stack(plan, home=home, cwd=installed_checkout()):
        print(line)
    print(f"Prefect server state: {where}")
    print(f"logs and pids: {home / 'stack'}")
    print(f"Prefect UI: http://{plan.host}:{plan.port}")
    print(f"export PREFECT_API_URL={plan.api_url}")
    return 0


def _down(args: argparse.Namespace) -> int:
    from tripcast.topology.processes import stop_all

    lines = stop_all(_home() / "stack", grace_seconds=args.grace)
    for line in lines:
        print(line)
    if not lines:
        print("nothing was running")
    return 0


def _status(_args: argparse.Namespace) -> int:
    from tripcast.topology.processes import running

    alive = running(_home() / "stack")
    for name, pid in alive:
        print(f"{name}: pid {pid}")
    if not alive:
        print("the stack is down")
    return 0 if alive else 1


def register(commands: Any) -> None:
    stack = commands.add_parser(
        "stack", help="run the production topology on this machine (Prefect server, workers...)"
    )
    actions = stack.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="start the Prefect server, deploy, start the workers")
    up.add_argument("--workers", type=int, default=2, help="Prefect workers to start")
    up.add_argument("--host", default="127.0.0.1", help="the Prefect server's address")
    up.add_argument("--port", type=int, default=4200, help="the Prefect server's port")
    up.add_argument("--webhook-port", type=int, default=8088)
    up.add_argument(
        "--without",
        action="append",
        default=[],
        choices=["webhook", "dispatcher"],
        help="leave a process out (repeatable)",
    )
    up.set_defaults(handler=_up)
    down = actions.add_parser("down", help="stop every process of the stack")
    down.add_argument("--grace", type=float, default=GRACE_SECONDS, help="seconds before SIGKILL")
    down.set_defaults(handler=_down)
    status = actions.add_parser("status", help="list the stack's running processes")
    status.set_defaults(handler=_status)
