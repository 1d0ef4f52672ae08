"""``tripcast media download MESSAGE_ID``: fetch an inbound message's media from the Cloud API."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from tripcast.commands.runtime import migrated_engine

EXIT_FAILED = 1


def _download(args: argparse.Namespace) -> int:
    from tripcast.conversations.download import MediaNotFound, find_media, save
    from tripcast.settings import get_settings
    from tripcast.whatsapp.api_errors import WhatsAppError
    from tripcast.whatsapp.conversation import MediaClient, MediaIntegrityError

    settings = get_settings()
    settings.require("whatsapp_access_token")
    try:
        media = find_media(migrated_engine(), args.message_id)
    except MediaNotFound as error:
        print(f"tripcast: {error}", file=sys.stderr)
        return EXIT_FAILED
    token = settings.whatsapp_access_token
    client = MediaClient(
        access_token=token.get_secret_value() if token is not None else "",
        base_url=settings.whatsapp_api_url,
        api_version=settings.whatsapp_api_version,
    )
    try:
        content = asyncio.run(_fetch(client, media))
    except (WhatsAppError, MediaIntegrityError) as error:
        print(f"tripcast: media {media.media_id} not downloaded: {error}", file=sys.stderr)
        return EXIT_FAILED
    written = save(media, content, args.output or Path.cwd())
    print(f"{written} ({media.mime_type or 'unknown type'}, {written.stat().st_size} bytes)")
    return 0


async def _fetch(client: Any, media: Any) -> bytes:
    from tripcast.conversations.download import fetch

    async with client:
        return await fetch(client, media)


def register(commands: Any) -> None:
    parser = commands.add_parser("media", help="inbound media (images, audio, documents...)")
    steps = parser.add_subparsers(dest="media_command", required=True, metavar="STEP")
    download = steps.add_parser("download", help="fetch an inbound message's media")
    download.add_argument("message_id", metavar="MESSAGE_ID", help="tripcast's id or the wamid")
    download.add_argument(
        "--output", type=Path, help="file or directory to write (default: current directory)"
    )
    download.set_defaults(handler=_download)
