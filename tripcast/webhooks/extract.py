"""A stored delivery's payload turned into rows to apply: status receipts and inbound messages.

Pure functions, no I/O. The payload is validated with the shared models of
``tripcast.whatsapp.webhook``; the raw objects ride along because Meta adds fields the
models ignore (pricing, conversation) and delivery logs keep the status as Meta sent it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from tripcast.conversations.media import media_metadata
from tripcast.exceptions import EXIT_CONFIG, TripcastError
from tripcast.rules.consent import classify_inbound, normalise_keyword
from tripcast.webhooks.contacts import Identity, contact_names
from tripcast.webhooks.notices import NOTICE_TYPES, Notice, ReviewItem, notice_from, rejected_item
from tripcast.whatsapp.webhook import (
    KNOWN_STATUSES,
    NAME_MAX,
    DeliveryError,
    InboundMessage,
    Metadata,
    Status,
)

# Sort key at equal timestamps: the order in which Meta emits them for one message.
RECEIPT_RANK: Mapping[str, int] = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
# Message types whatsapp_messages accepts as they are; any other becomes text.
STORED_TYPES = frozenset({"text", "image", "location"})
# Keys of a ``messages`` value the ingest reads; any other is counted as unused.
VALUE_KEYS = frozenset({"messaging_product", "metadata", "contacts", "messages", "statuses"})
SENDER_FIELDS = frozenset({"phone_number_quality_update", "account_update"})

_Item = TypeVar("_Item", Status, InboundMessage)


class MalformedDelivery(TripcastError, ValueError):
    """A stored payload that does not validate; the delivery is rejected with this reason."""

    exit_code = EXIT_CONFIG


@dataclass(frozen=True, slots=True)
class Receipt:
    wamid: str
    status: str
    at: datetime
    recipient: str
    callback: str | None
    error_code: int | None
    failed_reason: str | None
    raw: dict[str, Any]
    delivery_id: uuid.UUID | None = None
    backlog_id: uuid.UUID | None = None

    @property
    def callback_id(self) -> uuid.UUID | None:
        """Our message id when the callback data is one (dispatch sends ``str(id)``)."""
        try:
            return uuid.UUID(self.callback) if self.callback else None
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Inbound:
    wamid: str
    sender: str | None  # the phone number; None for a traveller known by BSUID only
    at: datetime
    wa_type: str
    message_type: str
    content: str
    intent: str | None
    keyword: str | None
    metadata: dict[str, Any]
    raw: dict[str, Any]
    phone_number_id: str
    profile_name: str | None
    delivery_id: uuid.UUID | None = None
    sender_user_id: str | None = None  # the BSUID


@dataclass
class Extracted:
    receipts: list[Receipt] = field(default_factory=list)
    inbound: list[Inbound] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)  # system, edit, revoke
    rejected: list[ReviewItem] = field(default_factory=list)  # items never applicable
    unused: Counter[str] = field(default_factory=Counter)  # kept in the delivery, not applied
    identities: list[Identity] = field(default_factory=list)  # BSUIDs seen, with numbers


def failed_reason(errors: list[DeliveryError]) -> str:
    """``"131026: Message undeliverable"``: the first error's code and title (or message)."""
    if not errors:
        return "failed: no error details from WhatsApp"
    first = errors[0]
    return f"{first.code}: {first.title or first.message or 'no title'}"


def receipt_from(status: Status, raw: dict[str, Any], **ids: uuid.UUID | None) -> Receipt:
    failed = status.status == "failed"
    return Receipt(
        wamid=status.id,
        status=status.status,
        at=status.timestamp,
        recipient=status.recipient,
        callback=status.biz_opaque_callback_data,
        error_code=status.errors[0].code if failed and status.errors else None,
        failed_reason=failed_reason(status.errors) if failed else None,
        raw=raw,
        **ids,
    )


def receipt_from_raw(raw: dict[str, Any], **ids: uuid.UUID | None) -> Receipt:
    """A kept status object (from the backlog) back into a receipt."""
    return receipt_from(Status.model_validate(raw), raw, **ids)


def extract(payload: Any, *, delivery_id: uuid.UUID | None = None) -> Extracted:
    """Every receipt, inbound message and notice of a delivery, in the order Meta listed them.

    Each item is validated on its own: one that can never be applied becomes a rejected
    review item with its reason and the rest are applied. Only a delivery whose envelope
    (``entry[].changes[]``) is broken is refused as a whole (``MalformedDelivery``).
    """
    try:
        envelope = _Envelope.model_validate(payload)
    except ValidationError as error:
        raise MalformedDelivery(f"payload has the wrong shape at {_where(error)}") from None
    out = Extracted()
    for e, entry in enumerate(envelope.entry):
        for c, change in enumerate(entry.changes):
            path = f"entry.{e}.changes.{c}.value"
            if change.field == "user_preferences":
                continue  # applied by tripcast.webhooks.user_preferences
            if change.field in SENDER_FIELDS:
                continue  # applied by tripcast.senders.events, which counts what it skips
            if change.field != "messages":
                out.unused[f"field:{change.field[:NAME_MAX]}"] += 1  # template, account, ...
                continue
            _extract_value(out, change.value, path=path, delivery_id=delivery_id)
    return out


class _Change(BaseModel):
    field: str
    value: Any = None


class _Entry(BaseModel):
    changes: list[_Change]


class _Envelope(BaseModel):
    entry: list[_Entry]


class _Head(BaseModel):
    """What every ``messages`` value must have for any of its items to be applied."""

    messaging_product: Literal["whatsapp"]
    metadata: Metadata


def _where(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def _extract_value(out: Extracted, value: Any, *, path: str, delivery_id: uuid.UUID | None) -> None:
    ids = {"delivery_id": delivery_id}
    try:
        head = _Head.model_validate(value)
    except ValidationError as error:
        reason = f"wrong shape at {path}.{_where(error)}"
        out.rejected.append(rejected_item(value, path=path, reason=reason, **ids))
        return
    for key in value.keys() - VALUE_KEYS:
        out.unused[f"value:{key[:NAME_MAX]}"] += 1  # value-level errors, echoes, ...
    names = contact_names(value.get("contacts"), out.identities)
    for raw, at in _items(out, value, "statuses", path=path, **ids):
        status = _validated(out, Status, raw, path=at, **ids)
        if status is None:
            continue
        if status.recipient_user_id:
            out.identities.append(Identity(status.recipient_user_id, status.recipient_id, None))
        if status.status not in KNOWN_STATUSES:
            out.unused[f"status:{status.status}"] += 1  # played, ...
            continue
        out.receipts.append(receipt_from(status, raw, **ids))
    for raw, at in _items(out, value, "messages", path=path, **ids):
        message = _validated(out, InboundMessage, raw, path=at, **ids)
        if message is None:
            continue
        if message.type in NOTICE_TYPES:
            out.notices.append(notice_from(message, raw, path=at, **ids))
            continue
        phone_number_id = head.metadata.phone_number_id
        inbound = inbound_from(message, raw, phone_number_id=phone_number_id, names=names, **ids)
        out.inbound.append(inbound)


def _items(
    out: Extracted, value: dict[str, Any], key: str, *, path: str, delivery_id: uuid.UUID | None
) -> Iterator[tuple[Any, str]]:
    items = value.get(key)
    if items is None:
        return
    if not isinstance(items, list):
        reason = f"{path}.{key} must be a list"
        out.rejected.append(rejected_item(items, path=f"{path}.{key}", reason=reason,
                                          delivery_id=delivery_id))  # fmt: skip
        return
    for index, raw in enumerate(items):
        yield raw, f"{path}.{key}.{index}"


def _validated(
    out: Extracted, model: type[_Item], raw: Any, *, path: str, delivery_id: uuid.UUID | None
) -> _Item | None:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        reason = f"wrong shape at {path}.{_where(error)}"
        out.rejected.append(rejected_item(raw, path=path, reason=reason, delivery_id=delivery_id))
        return None


def inbound_from(
    message: InboundMessage,
    raw: dict[str, Any],
    *,
    phone_number_id: str,
    names: Mapping[str, str | None],
    delivery_id: uuid.UUID | None = None,
) -> Inbound:
    said = message.text_body or _interactive_title(raw)
    intent = classify_inbound(said)
    content, extra = readable_content(message.type, raw, said)
    context = raw.get("context")
    if isinstance(context, dict) and context.get("id"):
        extra["reply_to"] = context["id"]  # the wamid of our message they answered
    return Inbound(
        wamid=message.id,
        sender=message.sender,
        at=message.timestamp,
        wa_type=message.type,
        message_type=message.type if message.type in STORED_TYPES else "text",
        content=content,
        intent=intent,
        keyword=normalise_keyword(said) if intent and said else None,
        metadata={"wa_type": message.type, **extra},
        raw=raw,
        phone_number_id=phone_number_id,
        profile_name=names.get(message.sender or message.sender_user_id or ""),
        delivery_id=delivery_id,
        sender_user_id=message.sender_user_id,
    )


def readable_content(
    wa_type: str, raw: Mapping[str, Any], said: str | None
) -> tuple[str, dict[str, Any]]:
    """Text to store as ``content`` (what they wrote, or a placeholder) and extra metadata."""
    found = raw.get(wa_type)
    body: Mapping[str, Any] = found if isinstance(found, dict) else {}
    if wa_type == "location":
        where = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        point = f"({body.get('latitude')}, {body.get('longitude')})"
        extra = {k: body[k] for k in ("latitude", "longitude", "name", "address") if k in body}
        return f"[location] {where} {point}".replace("  ", " "), extra
    if said is not None:
        return said, {}
    extra = dict(media_metadata(body))  # id, mime_type, sha256, caption, filename
    if wa_type == "reaction":
        return f"[reaction {body.get('emoji', '')}]".replace(" ]", "]"), extra
    caption = body.get("caption") or body.get("filename")
    return (f"[{wa_type}] {caption}" if caption else f"[{wa_type}]"), extra


def _interactive_title(raw: Mapping[str, Any]) -> str | None:
    interactive = raw.get("interactive")
    if not isinstance(interactive, dict):
        return None
    for kind in ("button_reply", "list_reply"):
        reply = interactive.get(kind)
        if isinstance(reply, dict) and reply.get("title"):
            return str(reply["title"])
    return None
