"""Conversation actions beside sending: read receipts with the typing indicator, media.

``POST /{version}/{phone_number_id}/messages`` with ``{"messaging_product": "whatsapp",
"status": "read", "message_id": wamid}`` marks an inbound message, and every earlier one
of the chat, read (two blue ticks); ``"typing_indicator": {"type": "text"}`` also shows
"typing…" until the reply is sent or 25 seconds pass. Meta answers ``{"success": true}``.

Inbound media is fetched in two steps: ``GET /{version}/{media_id}`` answers a short-lived
``url`` (with ``mime_type``, ``sha256``, ``file_size``), then ``GET url`` with the same
bearer token answers the bytes. Both are mapped to the ``WhatsAppError`` families.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from tripcast.exceptions import EXIT_CONFIG, TripcastError
from tripcast.whatsapp.api_errors import MalformedResponseError
from tripcast.whatsapp.client import DEFAULT_API_VERSION, DEFAULT_BASE_URL
from tripcast.whatsapp.error_codes import error_from_response
from tripcast.whatsapp.reader import GraphReader, parse_body
from tripcast.whatsapp.transport import TransportChoice

_MEDIA_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def read_receipt(message_id: str, *, typing: bool = False) -> dict[str, Any]:
    """The payload marking inbound ``message_id`` read (and showing the typing indicator)."""
    if not message_id:
        raise ValueError("message_id is required: the wamid of the inbound message")
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": message_id,
    }
    if typing:
        payload["typing_indicator"] = {"type": "text"}
    return payload


def acknowledged(status: int, content: bytes) -> None:
    """Meta's answer to a read receipt: nothing when it succeeded, else the error."""
    if not 200 <= status < 300:
        raise error_from_response(status, content)
    try:
        success = json.loads(content).get("success")
    except (ValueError, AttributeError):
        success = None
    if success is not True:
        raise MalformedResponseError(
            f"HTTP {status}, but the answer is not {{'success': true}}: {content[:200]!r}",
            http_status=status,
        )


class MediaInfo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    url: str
    mime_type: str | None = None
    sha256: str | None = None
    file_size: int | None = None
    id: str | None = None


class MediaIntegrityError(TripcastError, ValueError):
    """The downloaded bytes do not hash to the sha256 Meta announced."""

    exit_code = EXIT_CONFIG


class MediaClient(GraphReader):
    """Looks up and downloads inbound media by id; an async context manager."""

    def __init__(
        self,
        *,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 60.0,
        transport: TransportChoice = None,
    ) -> None:
        super().__init__(access_token=access_token, timeout=timeout, transport=transport)
        self.base = f"{base_url.rstrip('/')}/{api_version}"

    def __repr__(self) -> str:
        return f"MediaClient(base={self.base!r})"  # never the token

    async def info(self, media_id: str) -> MediaInfo:
        if not _MEDIA_ID.fullmatch(media_id):
            raise ValueError(f"not a WhatsApp media id: {media_id[:40]!r}")
        response = await self._get(f"{self.base}/{media_id}")
        return parse_body(MediaInfo, response, what="a media object")

    async def download(self, media_id: str) -> tuple[MediaInfo, bytes]:
        """The media's description and bytes, checked against its announced sha256."""
        info = await self.info(media_id)
        content = (await self._get(info.url)).content
        if info.sha256 and hashlib.sha256(content).hexdigest() != info.sha256.lower():
            raise MediaIntegrityError(
                f"media {media_id}: the {len(content)} bytes downloaded do not match its sha256"
            )
        return info, content
