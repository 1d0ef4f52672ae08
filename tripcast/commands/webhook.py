"""``tripcast webhook``, ``tripcast ingest`` and ``tripcast watch``."""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import uuid
from typing import Any

from tripcast.commands.runtime import migrated_engine, prepare_prefect_home, run_flow


def _webhook(args: argparse.Namespace) -> int:
    from tripcast.settings import get_settings
    from tripcast.webhooks.receiver_server import run_receiver

    migrated_engine()
    run_receiver(host=args.host, port=args.port, settings=get_settings(), ingest=args.ingest)
    return 0


def _ingest(args: argparse.Namespace) -> int:
    engine = migrated_engine()
    if args.follow:
        from tripcast.webhooks.follow import follow

        stop = threading.Event()
        try:
            follow(engine, stop=stop, on_report=lambda report: print(report.summary()))
        except KeyboardInterrupt:
            stop.set()
        return 0
    prepare_prefect_home()
    from tripcast.flows.ingest import webhook_ingest

    totals = run_flow(lambda: webhook_ingest(batch_size=args.batch_size), what="ingest")
    if totals is None:
        return 1
    print(", ".join(f"{key} {value}" for key, value in sorted(totals.items())) or "nothing to do")
    return 0


def _watch(args: argparse.Namespace) -> int:
    from tripcast.webhooks.watch import CHANNEL, watch

    def listening() -> None:
        # Scripts (and tests) wait for this line: updates from here on are seen.
        print(f"listening on {CHANNEL}", file=sys.stderr, flush=True)

    engine = migrated_engine()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a watch ends
        watch(
            engine,
            user_id=args.user,
            out=sys.stdout,
            max_events=args.max_events,
            timeout=args.timeout,
            on_listening=listening,
        )
    return 0


def register(commands: Any) -> None:
    webhook = commands.add_parser("webhook", help="the WhatsApp webhook receiver")
    webhook.add_argument("--host", default="127.0.0.1")
    webhook.add_argument("--port", type=int, default=8088)
    webhook.add_argument(
        "--ingest",
        action="store_true",
        help="also apply deliveries as they arrive (in this process)",
    )
    webhook.set_defaults(handler=_webhook)
    ingest = commands.add_parser("ingest", help="apply every stored webhook delivery now")
    ingest.add_argument("--batch-size", type=int, default=100)
    ingest.add_argument(
        "--follow",
        action="store_true",
        help="keep applying deliveries as they arrive, until Ctrl-C",
    )
    ingest.set_defaults(handler=_ingest)
    watch = commands.add_parser("watch", help="print a user's message updates live")
    watch.add_argument("--user", required=True, type=uuid.UUID)
    watch.add_argument("--timeout", type=float, help="stop after this many seconds")
    watch.add_argument("--max-events", type=int, help="stop after this many updates")
    watch.set_defaults(handler=_watch)
