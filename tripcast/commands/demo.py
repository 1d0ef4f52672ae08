"""``tripcast demo``: the whole product over a simulated day, then a summary."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


def _demo(args: argparse.Namespace) -> int:
    import os

    # The progress bar tells the story; Prefect's per-task log lines would drown it.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    import logging

    # Refusals the seeded world provokes on purpose (undeliverable numbers, pair rate)
    # are counted in the summary; their warning lines would only interrupt the bar.
    logging.getLogger("tripcast.whatsapp").setLevel(logging.ERROR)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tripcast.commands.runtime import prepare_prefect_home
    from tripcast.demo.run import DemoOptions, run_demo
    from tripcast.settings import get_settings

    console = Console()
    home = (get_settings().home / "demo").resolve()
    prepare_prefect_home(home / "prefect")
    options = DemoOptions(
        home=home, travellers=args.travellers, hours=args.hours, step_hours=args.step_hours
    )
    started = time.monotonic()
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        steps = options.hours // options.step_hours + 1
        task = bar.add_task("tripcast demo", total=steps + 2)

        def step(message: str) -> None:
            bar.update(task, advance=1, description=message)

        result = _without_heartbeats(lambda: run_demo(options, progress=step, sweep=_sweep))
    if args.json:
        import json

        from tripcast.demo.summary import as_dict

        print(json.dumps(as_dict(result.summary), indent=2))
        return 0
    _print_summary(console, result, seconds=time.monotonic() - started)
    return 0


def _sweep(now: datetime) -> dict[str, dict[str, int]]:
    """One minute-sweep flow run at a simulated moment, tagged as the demo's."""
    from prefect import tags

    from tripcast.flows.automations import minute_sweep

    with tags("tripcast", "demo", "sweep"):
        return minute_sweep(now=now)


def _without_heartbeats(run: Callable[[], T]) -> T:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    # Heartbeats detect crashed runs of real deployments; in a simulated day they only
    # add a second to each of its two dozen sweeps (the heartbeat thread's join).
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return run()


def _print_summary(console: Any, result: Any, *, seconds: float) -> None:
    from rich.table import Table

    from tripcast.demo.summary import render

    table = Table(title=f"A simulated day ({result.day:%Y-%m-%d}, UTC) in {seconds:.0f} s")
    table.add_column("what")
    table.add_column("", justify="left")
    table.add_column("count", justify="right")
    for section, rows in render(result.summary):
        for index, (label, count) in enumerate(rows or [("none", 0)]):
            table.add_row(section if index == 0 else "", str(label), str(count))
        table.add_section()
    console.print(table)
    user = next(iter(result.world.chatty_users), None) if result.world.chatty_users else None
    console.print("Where to look next:")
    console.print(
        f"  Prefect UI:  PREFECT_HOME={result.prefect_home} prefect server start "
        "→ http://127.0.0.1:4200 (the demo's flow runs and their summaries)"
    )
    if user is not None:
        console.print(
            f"  Live updates: TRIPCAST_HOME={result.database_home} tripcast watch --user {user}"
        )
    console.print(f"  The data:    TRIPCAST_HOME={result.database_home} tripcast db current")


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="run the whole product over a simulated day")
    demo.add_argument("--travellers", type=int, default=300)
    demo.add_argument("--hours", type=int, default=24, help="length of the simulated day")
    demo.add_argument("--step-hours", type=int, default=2, help="simulated hours per sweep")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo.set_defaults(handler=_demo)
