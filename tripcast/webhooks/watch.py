"""Following one traveller's messages live (``tripcast watch``).

Every insert and update of ``whatsapp_messages`` is announced on
``tripcast_whatsapp_messages`` (migration 0009's payload: message id, operation,
direction, status, category; nothing that identifies a traveller, since any role may
LISTEN). ``watch_events`` LISTENs and fetches each announced row by id on a second
connection, keeping the user's: the masked phone number and a short content or failure
reason are what a person watching wants to read. ``on_listening`` is called once the
LISTEN is in effect (``tripcast watch`` says so on stderr). It stops after
``max_events``, after ``timeout`` seconds, or when ``stop`` is set.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

import psycopg
from sqlalchemy.engine import Engine

from tripcast.webhooks import sql
from tripcast.webhooks.deliveries import psycopg_conninfo
from tripcast.whatsapp.phone import mask_phone

CHANNEL = "tripcast_whatsapp_messages"
SHORT = 60


@dataclass(frozen=True)
class MessageEvent:
    op: str
    message_id: str
    direction: str
    status: str
    updated_at: datetime | None
    phone: str | None  # masked
    text: str | None  # short content, or the failure reason of a failed message


def watch_events(
    database: Engine | str,
    *,
    user_id: uuid.UUID | str,
    max_events: int | None = None,
    timeout: float | None = None,
    stop: threading.Event | None = None,
    on_listening: Callable[[], None] | None = None,
) -> Iterator[MessageEvent]:
    """Yield ``user_id``'s message events as they happen."""
    conninfo = _conninfo(database)
    deadline = None if timeout is None else time.monotonic() + timeout
    wanted, seen = str(user_id), 0
    with (
        psycopg.connect(conninfo, autocommit=True) as listener,
        psycopg.connect(conninfo, autocommit=True) as reader,
    ):
        listener.execute(f"LISTEN {CHANNEL}")
        if on_listening is not None:
            on_listening()
        while not (stop is not None and stop.is_set()):
            wait = 0.25 if deadline is None else min(0.25, deadline - time.monotonic())
            if wait <= 0:
                return
            for notify in listener.notifies(timeout=wait):
                event = _event(notify.payload, reader, user_id=wanted)
                if event is None:
                    continue  # someone else's message, or gone
                yield event
                seen += 1
                if max_events is not None and seen >= max_events:
                    return


def watch(
    database: Engine | str,
    *,
    user_id: uuid.UUID | str,
    out: TextIO | None = None,
    max_events: int | None = None,
    timeout: float | None = None,
    stop: threading.Event | None = None,
    on_listening: Callable[[], None] | None = None,
) -> int:
    """Print one line per event of ``user_id``'s messages; returns how many were printed."""
    out = out or sys.stdout
    printed = 0
    for event in watch_events(
        database,
        user_id=user_id,
        max_events=max_events,
        timeout=timeout,
        stop=stop,
        on_listening=on_listening,
    ):
        print(format_event(event), file=out, flush=True)
        printed += 1
    return printed


def format_event(event: MessageEvent) -> str:
    """``2026-11-24 09:00:01  outbound  delivered  3519*****678  1a2b3c4d  "Your trip…"``"""
    moment = event.updated_at.strftime("%Y-%m-%d %H:%M:%S") if event.updated_at else "-"
    text = "" if event.text is None else json.dumps(_shorten(event.text), ensure_ascii=False)
    fields = [moment, f"{event.direction:<8}", f"{event.status:<9}", event.phone or "-"]
    return "  ".join([*fields, event.message_id[:8], text]).rstrip()


def _event(text: str, reader: psycopg.Connection, *, user_id: str) -> MessageEvent | None:
    """The announced message as an event, or None when it is not ``user_id``'s."""
    payload = _payload(text)
    if payload is None:
        return None
    row = reader.execute(sql.WATCH_DETAILS, (payload["id"], user_id)).fetchone()
    if row is None:
        return None
    content, failed_reason, phone, updated_at = row
    # The status announced, not the row's: the row may have moved on since.
    status = str(payload.get("status"))
    return MessageEvent(
        op=str(payload.get("op")),
        message_id=str(payload["id"]),
        direction=str(payload.get("direction")),
        status=status,
        updated_at=updated_at,
        phone=mask_phone(phone) if phone else None,
        text=failed_reason if status == "failed" and failed_reason else content,
    )


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHORT else flat[: SHORT - 1] + "…"


def _payload(text: str) -> dict[str, Any] | None:
    """The notification's fields, or None for one tripcast did not send: any role may
    NOTIFY on the channel, and a stray payload must not end the watch."""
    try:
        payload = json.loads(text)
        payload["id"] = uuid.UUID(str(payload["id"]))
    except (ValueError, TypeError, KeyError):
        return None
    return payload if isinstance(payload, dict) else None


def _conninfo(database: Engine | str) -> str:
    url = database if isinstance(database, str) else database.url.render_as_string(False)
    return psycopg_conninfo(url)
