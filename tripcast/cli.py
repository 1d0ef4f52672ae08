"""The ``tripcast`` command line. Each command fails with one clear line and a non-zero exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from tripcast.commands import (
    bench,
    db,
    demo,
    deploy,
    dispatch,
    fake,
    forecast,
    media,
    report,
    rerun,
    senders,
    serve,
    stack,
    sweep,
    templates,
    verify,
    webhook,
    worker,
)
from tripcast.exceptions import EXIT_CONFIG, TripcastError

Handler = Callable[[argparse.Namespace], int]
COMMAND_MODULES = (
    demo,
    db,
    sweep,
    dispatch,
    serve,
    deploy,
    worker,
    stack,
    webhook,
    rerun,
    verify,
    templates,
    senders,
    forecast,
    report,
    media,
    fake,
    bench,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tripcast", description="WhatsApp notifications and automations for travel products"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except TripcastError as error:  # each class says its exit code (configuration, database)
        print(f"tripcast: {error}", file=sys.stderr)
        return error.exit_code
    except ValueError as error:  # bad option values, e.g. a naive --now
        print(f"tripcast: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
