"""``tripcast dispatch [--follow]``: send what is due once, or keep sending as it arrives."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from tripcast.commands.runtime import migrated_engine
from tripcast.settings import get_settings


def _dispatch(args: argparse.Namespace) -> int:
    get_settings().require("whatsapp_phone_number_id", "whatsapp_access_token")
    engine = migrated_engine()
    log_to_stderr()
    if not args.follow:
        return asyncio.run(_once(engine, batch_size=args.batch_size))
    from tripcast.dispatch.follow import FollowOptions
    from tripcast.metrics import serve_metrics

    settings = get_settings()
    serve_metrics(engine, port=settings.metrics_port, host=settings.metrics_host)
    options = FollowOptions(poll_seconds=args.poll_seconds, batch_size=args.batch_size)
    asyncio.run(_follow_until_signalled(engine, options))
    return 0


def log_to_stderr() -> None:
    """The dispatcher's lines (one per batch) on stderr, whatever else configures logging."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("tripcast.dispatch")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


async def _once(engine: Engine, *, batch_size: int) -> int:
    from tripcast.dispatch import DispatchSettings, DispatchStopped, dispatch_pending
    from tripcast.whatsapp.client import WhatsAppClient

    settings = get_settings()
    async with WhatsAppClient.from_settings(settings) as client:
        try:
            report = await dispatch_pending(
                engine,
                client=client,
                settings=DispatchSettings.from_settings(settings),
                batch_size=batch_size,
            )
        except DispatchStopped as stopped:
            print(f"tripcast: {stopped}", file=sys.stderr)
            return 1
    print(report.summary())
    return 0


async def _follow_until_signalled(engine: Engine, options: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await follow_configured(engine, stop=stop, options=options)


async def follow_configured(
    engine: Engine, *, stop: asyncio.Event, options: Any = None, on_batch: Any = None
) -> None:
    """The follower with the configured client and rate, until ``stop`` is set."""
    from tripcast.dispatch import DispatchSettings
    from tripcast.dispatch.follow import FollowOptions, follow
    from tripcast.whatsapp.client import WhatsAppClient

    settings = get_settings()
    typing = settings.whatsapp_typing_indicator
    options = dataclasses.replace(options or FollowOptions(), typing_indicator=typing)
    async with WhatsAppClient.from_settings(settings) as client:
        await follow(
            engine,
            client=client,
            settings=DispatchSettings.from_settings(settings),
            stop=stop,
            options=options,
            on_batch=on_batch,
        )


def start_follower_thread(engine: Engine, *, on_batch: Any = None) -> Callable[[], None]:
    """The follower on a thread of its own (``tripcast serve``), listening once this
    returns; returns its stopper, which lets in-flight sends finish and waits."""
    ready = threading.Event()
    handles: dict[str, Any] = {}

    async def main() -> None:
        handles["loop"], handles["stop"] = asyncio.get_running_loop(), asyncio.Event()
        ready.set()
        await follow_configured(engine, stop=handles["stop"], on_batch=on_batch)

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="dispatch-follower")
    thread.start()
    ready.wait(30)

    def stopper() -> None:
        if "loop" in handles and thread.is_alive():
            handles["loop"].call_soon_threadsafe(handles["stop"].set)
        thread.join(60)

    return stopper


def register(commands: Any) -> None:
    dispatch = commands.add_parser(
        "dispatch", help="send due messages once, or with --follow as they are committed"
    )
    dispatch.add_argument(
        "--follow",
        action="store_true",
        help="run always: LISTEN for new messages, poll as a fallback; SIGTERM stops cleanly",
    )
    dispatch.add_argument(
        "--poll-seconds", type=float, default=5.0, help="fallback poll interval (at most 5)"
    )
    dispatch.add_argument("--batch-size", type=int, default=500)
    dispatch.set_defaults(handler=_dispatch)
