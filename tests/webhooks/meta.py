"""Webhook bodies shaped like Meta's (Cloud API, ``field: messages``), for the tests."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

PHONE_NUMBER_ID = "106540352242922"
_wamids = itertools.count(1)


def new_wamid() -> str:
    return f"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI{next(_wamids):012d}"


def epoch(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def status(
    wamid: str,
    name: str,
    at: datetime,
    *,
    recipient: str = "16505551234",
    callback: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": name,
        "timestamp": epoch(at),
        "recipient_id": recipient,
    }
    if name in ("sent", "delivered"):
        item["conversation"] = {"id": "CONVERSATION_ID", "origin": {"type": "utility"}}
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility"}
    if callback is not None:
        item["biz_opaque_callback_data"] = callback
    if errors is not None:
        item["errors"] = errors
    return item


def meta_error(code: int = 131026, title: str = "Message undeliverable") -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": "Message failed to send because of an unknown error."},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


def text_message(sender: str, body: str, at: datetime, *, wamid: str | None = None) -> dict:
    return {
        "from": sender,
        "id": wamid or new_wamid(),
        "timestamp": epoch(at),
        "type": "text",
        "text": {"body": body},
    }


def message(sender: str, kind: str, at: datetime, **content: Any) -> dict[str, Any]:
    return {"from": sender, "id": new_wamid(), "timestamp": epoch(at), "type": kind, **content}


def payload(
    *,
    statuses: list[dict[str, Any]] | None = None,
    messages: list[dict[str, Any]] | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
    }
    if statuses:
        value["statuses"] = statuses
    if messages:
        senders = {m["from"] for m in messages}
        value["contacts"] = [
            {"profile": {"name": (names or {}).get(s, "Traveller")}, "wa_id": s} for s in senders
        ]
        value["messages"] = messages
    change = {"value": value, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1024", "changes": [change]}]}


def body(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def number_changed(old: str, new: str, at: datetime, *, legacy: bool = False) -> dict[str, Any]:
    """A system message: the traveller moved to a new number (``legacy``: API v11 and older)."""
    system = {"body": f"User A changed from {old} to {new}", "type": "user_changed_number"}
    if legacy:
        system |= {"type": "customer_changed_number", "new_wa_id": new}
    else:
        system["wa_id"] = new
    return message(old, "system", at, system=system)


def identity_changed(sender: str, at: datetime) -> dict[str, Any]:
    system = {
        "body": "User A's security code changed",
        "customer": sender,
        "identity": "Tvkf0rH0hzY=",
        "type": "customer_identity_changed",
    }
    return message(sender, "system", at, system=system, identity={"acknowledged": False})


def edit(sender: str, original: str, body: str, at: datetime) -> dict[str, Any]:
    edited = {"original_message_id": original, "message": {"type": "text", "text": {"body": body}}}
    return message(sender, "edit", at, edit=edited)


def revoke(sender: str, original: str, at: datetime) -> dict[str, Any]:
    return message(sender, "revoke", at, revoke={"original_message_id": original})
