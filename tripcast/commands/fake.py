"""``tripcast fake-whatsapp``: the local fake Cloud API for demos, tests and benchmarks."""

from __future__ import annotations

import argparse
from typing import Any


def _fake_whatsapp(args: argparse.Namespace) -> int:
    from tripcast.settings import get_settings
    from tripcast.whatsapp.fake import FakeCloudApiConfig, run_fake_server

    settings = get_settings()
    config = FakeCloudApiConfig(
        latency_seconds=args.latency_ms / 1000, webhook_url=args.webhook_url
    )
    # The fake accepts the same credentials tripcast is configured with, so a client and
    # a receiver pointed at it work unchanged.
    if settings.whatsapp_access_token is not None:
        config.access_token = settings.whatsapp_access_token.get_secret_value()
    if settings.whatsapp_app_secret is not None:
        config.app_secret = settings.whatsapp_app_secret.get_secret_value()
    if args.unlimited:
        config.throughput_per_second = None
        config.pair_rate_window_seconds = None
    run_fake_server(host=args.host, port=args.port, config=config)
    return 0


def register(commands: Any) -> None:
    fake = commands.add_parser("fake-whatsapp", help="run the local fake WhatsApp Cloud API")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=8089)
    fake.add_argument("--latency-ms", type=float, default=100.0, help="response latency")
    fake.add_argument("--webhook-url", help="where to deliver signed status webhooks")
    fake.add_argument(
        "--unlimited", action="store_true", help="lift the throughput and pair-rate limits"
    )
    fake.set_defaults(handler=_fake_whatsapp)
