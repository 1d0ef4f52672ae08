"""``tripcast bench [--only NAME] [--size small|full]``: the benchmarks of DESIGN §8."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

NAMES = ("dispatch", "senders", "planning", "webhook", "scale", "memory", "latency")
DEFAULT_OUTPUT = "BENCHMARKS.md"
EXIT_REFUSED = 3


def selected(only: list[str] | None) -> list[str]:
    """``--only a,b --only c`` → ``[a, b, c]``; every benchmark when not given."""
    if not only:
        return list(NAMES)
    names = [name.strip() for item in only for name in item.split(",") if name.strip()]
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        raise ValueError(f"unknown benchmark {', '.join(unknown)} (choose from {', '.join(NAMES)})")
    return names


def command_line(args: argparse.Namespace, names: list[str]) -> str:
    parts = ["tripcast bench"]
    if names != list(NAMES):
        parts.append(f"--only {','.join(names)}")
    parts.append(f"--size {args.size}")
    return " ".join(parts)


def _bench(args: argparse.Namespace) -> int:
    from tripcast.bench import run_benchmarks, table, write_benchmarks
    from tripcast.bench.database import BenchRefused
    from tripcast.settings import get_settings

    names = selected([*(args.only or []), *args.names])
    settings = get_settings()
    try:
        run = run_benchmarks(
            settings,
            names=names,
            size=args.size,
            command=command_line(args, names),
            keep=args.keep,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except BenchRefused as error:
        print(f"tripcast: {error}", file=sys.stderr)
        return EXIT_REFUSED
    print(table(run.results))
    if args.json:
        document = {
            "command": run.command,
            "machine": run.machine.__dict__,
            "results": [result.as_json() for result in run.results],
        }
        Path(args.json).write_text(json.dumps(document, indent=2, default=str) + "\n")
    output = output_path(args)
    if output is not None:
        write_benchmarks(output, run, complete=names == list(NAMES))
        print(f"results written to {output}")
    return 0


def output_path(args: argparse.Namespace) -> Path | None:
    """Where results go: BENCHMARKS.md for full runs; a smoke run writes only when asked."""
    if args.no_write:
        return None
    if args.output is not None:
        return Path(args.output)
    return Path(DEFAULT_OUTPUT) if args.size == "full" else None


def register(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="run the benchmarks on a scratch database and write BENCHMARKS.md",
        description=(
            "Runs each benchmark on a scratch database (the embedded server's "
            "tripcast_bench, or a database it creates and drops on the server of "
            "TRIPCAST_DATABASE_URL) and reports every figure beside the ceiling of this "
            "machine measured in the same run."
        ),
    )
    bench.add_argument("names", nargs="*", metavar="NAME", help="run only these (same as --only)")
    bench.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only these ({', '.join(NAMES)}); repeat or separate with commas",
    )
    bench.add_argument(
        "--size",
        choices=("small", "full"),
        default="full",
        help="full: the sizes of the targets (minutes); small: a smoke run (seconds)",
    )
    bench.add_argument(
        "--output",
        help=f"the file to update (default {DEFAULT_OUTPUT}; small runs write only when given)",
    )
    bench.add_argument("--no-write", action="store_true", help="print only, write no file")
    bench.add_argument("--json", metavar="PATH", help="also write every result as JSON")
    bench.add_argument(
        "--keep", action="store_true", help="keep the last scratch database (embedded only)"
    )
    bench.set_defaults(handler=_bench)
