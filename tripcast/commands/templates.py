"""``tripcast templates sync``: refresh the template catalog from the Cloud API now."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from tripcast.commands.runtime import migrated_engine, parse_now

EXIT_REFUSED = 1


def _sync(args: argparse.Namespace) -> int:
    from tripcast.settings import get_settings
    from tripcast.templates.sync import sync_from_settings
    from tripcast.whatsapp.api_errors import WhatsAppError

    settings = get_settings()
    settings.require("whatsapp_business_account_id", "whatsapp_access_token")
    engine = migrated_engine()
    try:
        counts = asyncio.run(sync_from_settings(engine, settings, now=parse_now(args.now)))
    except WhatsAppError as error:
        # The catalog is left as it was: the listing is written only once complete.
        print(f"tripcast: template listing refused: {error}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"templates synced: {counts.summary()}")
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("templates", help="the WhatsApp template catalog")
    steps = parser.add_subparsers(dest="templates_command", required=True, metavar="STEP")
    sync = steps.add_parser("sync", help="refresh the catalog from the Cloud API's listing")
    sync.add_argument("--now", help="the instant to record, ISO 8601 with a timezone")
    sync.set_defaults(handler=_sync)
