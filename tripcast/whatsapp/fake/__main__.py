"""``python -m tripcast.whatsapp.fake [--host H] [--port P] [--latency S] [--config-json J]``."""

from __future__ import annotations

import argparse
import sys

from tripcast.whatsapp.fake.config import FakeCloudApiConfig
from tripcast.whatsapp.fake.server import run_fake_server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the local fake WhatsApp Cloud API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port")
    parser.add_argument("--latency", type=float, help="response latency in seconds")
    parser.add_argument("--config-json", help="a FakeCloudApiConfig as JSON; '-' reads stdin")
    args = parser.parse_args(argv)
    text = sys.stdin.readline() if args.config_json == "-" else args.config_json
    config = FakeCloudApiConfig.model_validate_json(text) if text else FakeCloudApiConfig()
    if args.latency is not None:
        config.latency_seconds = args.latency
    run_fake_server(host=args.host, port=args.port, config=config)


if __name__ == "__main__":
    main()
