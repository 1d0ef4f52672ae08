"""A stored delivery's payload turned into rows to apply: status receipts and inbound messages.

Pure functions, no I/O. The payload is validated with the shared models of
``tripcast.whatsapp.webhook``; the raw objects ride along because Meta adds fields the
models ignore (pricing, conversation) and delivery logs keep the status as Meta sent it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from tripcast.rules.consent import classify_inbound, normalise_keyword
from tripcast.whatsapp.webhook import DeliveryError, InboundMessage, MessagesValue, Status
from tripcast.whatsapp.webhook import WebhookPayload as Payload

# Sort key at equal timestamps: the order in which Meta emits them for one message.
RECEIPT_RANK: Mapping[str, int] = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
# Message types whatsapp_messages accepts as they are; any other becomes text.
STORED_TYPES = frozenset({"text", "image", "location"})


class MalformedDelivery(ValueError):
    """A stored payload that does not validate; the delivery is rejected with this reason."""


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
    sender: str
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


@dataclass
class Extracted:
    receipts: list[Receipt] = field(default_factory=list)
    inbound: list[Inbound] = field(default_factory=list)


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
        recipient=status.recipient_id,
        callback=status.biz_opaque_callback_data,
        error_code=status.errors[0].code if failed and status.errors else None,
        failed_reason=failed_reason(status.errors) if failed else None,
        raw=raw,
        **ids,
    )


def receipt_from_raw(raw: dict[str, Any], **ids: uuid.UUID | None) -> Receipt:
    """A kept status object (from the backlog) back into a receipt."""
    return receipt_from(Status.model_validate(raw), raw, **ids)


def extract(payload: dict[str, Any], *, delivery_id: uuid.UUID | None = None) -> Extracted:
    """Every receipt and inbound message of a delivery, in the order Meta listed them."""
    try:
        parsed = Payload.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise MalformedDelivery(f"payload has the wrong shape at {where}: {first['msg']}") from None
    out = Extracted()
    for value, raw_value in _message_values(parsed, payload):
        for status, raw in zip(value.statuses, raw_value.get("statuses", []), strict=True):
            out.receipts.append(receipt_from(status, raw, delivery_id=delivery_id))
        names = {c.wa_id: c.profile.name if c.profile else None for c in value.contacts}
        for message, raw in zip(value.messages, raw_value.get("messages", []), strict=True):
            inbound = inbound_from(message, raw, value=value, names=names, delivery_id=delivery_id)
            out.inbound.append(inbound)
    return out


def _message_values(
    parsed: Payload, payload: dict[str, Any]
) -> Iterator[tuple[MessagesValue, dict[str, Any]]]:
    for entry, raw_entry in zip(parsed.entry, payload["entry"], strict=True):
        for change, raw_change in zip(entry.changes, raw_entry["changes"], strict=True):
            if isinstance(change.value, MessagesValue):
                yield change.value, raw_change["value"]


def inbound_from(
    message: InboundMessage,
    raw: dict[str, Any],
    *,
    value: MessagesValue,
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
        phone_number_id=value.metadata.phone_number_id,
        profile_name=names.get(message.sender),
        delivery_id=delivery_id,
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
    extra = {"media_id": body["id"]} if body.get("id") else {}
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
