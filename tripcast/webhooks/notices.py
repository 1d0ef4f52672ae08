"""Inbound items that are not a traveller writing to us: system notices, edits, revokes.

Pure functions, no I/O. Meta sends them on the ``messages`` field as messages of type
``system`` (a phone number or identity change), ``edit`` and ``revoke`` (the traveller
changed or deleted an earlier message). None of them is a new message from the
traveller; ``apply_notices`` applies them to the account or message they concern.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tripcast.whatsapp.webhook import ID_MAX, InboundMessage

NOTICE_TYPES = frozenset({"system", "edit", "revoke"})
# Older API versions say customer_*, newer ones user_*.
NUMBER_CHANGED = frozenset({"customer_changed_number", "user_changed_number"})
IDENTITY_CHANGED = frozenset({"customer_identity_changed", "user_identity_changed"})


@dataclass(frozen=True, slots=True)
class Notice:
    """``kind``: number_changed, identity_changed, edit, revoke, or system (another type)."""

    kind: str
    wamid: str
    sender: str | None  # the phone number; None when Meta gave only the BSUID
    at: datetime
    target: str | None  # the new number, or the wamid of the message edited / revoked
    content: str | None  # an edit's new text
    raw: dict[str, Any]
    path: str
    delivery_id: uuid.UUID | None = None
    sender_user_id: str | None = None  # the BSUID


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A row for ``webhook_review_items``: what happened to an item, for a person to see."""

    kind: str
    item_key: str
    reason: str
    raw: Any
    path: str | None = None
    sender: str | None = None
    at: datetime | None = None
    delivery_id: uuid.UUID | None = None


def rejected_item(raw: Any, *, path: str, reason: str, delivery_id: uuid.UUID | None) -> ReviewItem:
    """An item that can never be applied; keyed by its content, so a re-delivery is one row."""
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    sender = raw.get("from") or raw.get("from_user_id") if isinstance(raw, dict) else None
    return ReviewItem(
        kind="rejected_item",
        item_key=hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest(),
        reason=reason,
        raw=raw,
        path=path,
        sender=sender if isinstance(sender, str) and len(sender) <= ID_MAX else None,
        delivery_id=delivery_id,
    )


def notice_from(
    message: InboundMessage, raw: dict[str, Any], *, path: str, delivery_id: uuid.UUID | None
) -> Notice:
    """The notice a ``system`` / ``edit`` / ``revoke`` message carries (see NOTICE_TYPES)."""
    body = _object(raw.get(message.type))
    kind, target, content = message.type, None, None
    if message.type == "system":
        system_type = str(body.get("type") or "")
        if system_type in NUMBER_CHANGED:
            kind, target = "number_changed", _text(body.get("new_wa_id") or body.get("wa_id"))
        elif system_type in IDENTITY_CHANGED:
            kind = "identity_changed"
    else:
        target = _text(body.get("original_message_id"))
        if message.type == "edit":
            content = edited_text(_object(body.get("message")))
    return Notice(
        kind=kind,
        wamid=message.id,
        sender=message.sender,
        at=message.timestamp,
        target=target,
        content=content,
        raw=raw,
        path=path,
        delivery_id=delivery_id,
        sender_user_id=message.sender_user_id,
    )


def edited_text(message: Mapping[str, Any]) -> str | None:
    """The new text of an edit: a text's body, or a media message's caption."""
    text = _object(message.get("text")).get("body")
    if isinstance(text, str):
        return text
    kind = message.get("type")
    caption = _object(message.get(kind)).get("caption") if isinstance(kind, str) else None
    return caption if isinstance(caption, str) else None


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()[:ID_MAX]
    return None
