"""What an inbound media message says about its media, kept on the inbound row.

Pure functions, no I/O. Image, audio, video, document and sticker messages carry the
media's ``id`` (to download it from the Cloud API while Meta keeps it), ``mime_type``,
``sha256`` and, for some, a ``caption`` or ``filename``. They go flat into the inbound
message's ``metadata`` (``metadata ->> 'media_id'``, ``'mime_type'``...), so a query or
``tripcast media download`` finds them by the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MEDIA_KEYS = {"id": "media_id", "mime_type": "mime_type", "sha256": "sha256",
              "caption": "caption", "filename": "filename"}  # fmt: skip
MAX_TEXT = 4096  # a caption or file name longer than WhatsApp allows is cut, not refused


def media_metadata(body: Mapping[str, Any]) -> dict[str, str]:
    """The media fields of a message's ``image`` / ``audio`` / ... object that are present."""
    found: dict[str, str] = {}
    for key, name in MEDIA_KEYS.items():
        value = body.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            found[name] = str(value)[:MAX_TEXT]
    return found
