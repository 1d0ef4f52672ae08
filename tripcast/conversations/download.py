"""Downloading an inbound message's media on demand (``tripcast media download``).

Meta keeps inbound media for a limited time only (30 days); tripcast keeps its id, MIME
type and sha256 on the message and fetches the bytes when someone asks. The file is
written only once the bytes match their sha256, under a temporary name first, so a
failed download never leaves a partial file behind.
"""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from tripcast.exceptions import TripcastError
from tripcast.whatsapp.conversation import MediaClient

FIND = """
SELECT id, external_id, metadata FROM public.whatsapp_messages
WHERE direction = 'inbound' AND (external_id = %(key)s OR id = %(id)s)
"""


class MediaNotFound(TripcastError, LookupError):
    """No inbound message with that id, or one without media."""


@dataclass(frozen=True)
class StoredMedia:
    message_id: uuid.UUID
    media_id: str
    mime_type: str | None
    filename: str | None

    def default_name(self) -> str:
        """The traveller's file name, else the media id with the MIME type's extension."""
        if self.filename and Path(self.filename).name not in ("", ".", ".."):
            return Path(self.filename).name
        extension = mimetypes.guess_extension((self.mime_type or "").split(";")[0].strip())
        return f"{self.media_id}{extension or '.bin'}"


def find_media(engine: Engine, key: str) -> StoredMedia:
    """The media of inbound message ``key`` (tripcast's id or the wamid)."""
    try:
        as_uuid: uuid.UUID | None = uuid.UUID(key)
    except ValueError:
        as_uuid = None
    with engine.connect() as connection:
        row = connection.exec_driver_sql(FIND, {"key": key, "id": as_uuid}).first()
    if row is None:
        raise MediaNotFound(f"no inbound message with id or wamid {key!r}")
    metadata: dict[str, Any] = row.metadata or {}
    if not metadata.get("media_id"):
        kind = metadata.get("wa_type", "text")
        raise MediaNotFound(f"inbound message {row.id} ({kind}) carries no media")
    return StoredMedia(
        message_id=row.id,
        media_id=str(metadata["media_id"]),
        mime_type=metadata.get("mime_type"),
        filename=metadata.get("filename"),
    )


async def fetch(client: MediaClient, media: StoredMedia) -> bytes:
    """The media's bytes, checked against the sha256 Meta announces."""
    _info, content = await client.download(media.media_id)
    return content


def save(media: StoredMedia, content: bytes, output: Path) -> Path:
    """Write the bytes; the path written (a directory gets the default name)."""
    target = output / media.default_name() if output.is_dir() else output
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    partial.write_bytes(content)
    partial.replace(target)
    return target
