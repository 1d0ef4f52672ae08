"""Inbound traveller messages through the receiver: stored, 24 h window, unknown senders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import Traveller, make_traveller, rows, scalar
from tests.webhooks.conftest import post
from tripcast.rules.window import window_open
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def deliver(http: httpx.Client, receiver: BackgroundReceiver, *messages: dict, **kw: Any) -> None:
    answer = post(http, receiver.url, meta.payload(messages=list(messages), **kw))
    assert answer.status_code == 200, answer.text


def traveller(engine: Engine) -> Traveller:
    with engine.begin() as connection:
        return make_traveller(connection)


def inbound_rows(engine: Engine) -> list[dict]:
    return rows(
        engine,
        "SELECT user_id, whatsapp_account_id AS account, message_type, content, external_id, "
        "status, delivered_at, metadata FROM whatsapp_messages WHERE direction = 'inbound' "
        "ORDER BY delivered_at, content",
    )


def last_inbound_at(engine: Engine, who: Traveller) -> datetime | None:
    return scalar(
        engine, "SELECT last_inbound_at FROM whatsapp_accounts WHERE id = %(a)s", a=who.account
    )


def test_text_reply_is_stored_once_for_the_senders_account(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    ana = traveller(engine)
    reply = meta.text_message(ana.phone, "Is breakfast included?", T0)
    reply["context"] = {"from": "15550783881", "id": "wamid.OURS"}
    deliver(http, receiver, reply, names={ana.phone: "Ana"})
    report = drain(engine)
    assert (report.inbound_stored, report.unknown_senders) == (1, 0)
    again = meta.payload(messages=[reply])  # Meta delivers it again, in another body
    again["entry"][0]["id"] = "2048"
    assert post(http, receiver.url, again).status_code == 200
    assert drain(engine).inbound_duplicates == 1
    [row] = inbound_rows(engine)
    assert row == {
        "user_id": ana.user,
        "account": ana.account,
        "message_type": "text",
        "content": "Is breakfast included?",
        "external_id": reply["id"],
        "status": "delivered",
        "delivered_at": T0,
        "metadata": {"wa_type": "text", "reply_to": "wamid.OURS"},
    }


def test_media_location_and_buttons_get_readable_content(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    ana = traveller(engine)
    s = timedelta(seconds=1)
    deliver(
        http,
        receiver,
        meta.message(ana.phone, "image", T0, image={"id": "MEDIA1", "mime_type": "image/jpeg"}),
        meta.message(
            ana.phone,
            "location",
            T0 + s,
            location={"latitude": 38.7, "longitude": -9.1, "name": "Hotel Avenida"},
        ),
        meta.message(ana.phone, "audio", T0 + 2 * s, audio={"id": "MEDIA2"}),
        meta.message(
            ana.phone,
            "interactive",
            T0 + 3 * s,
            interactive={"type": "button_reply", "button_reply": {"id": "b1", "title": "Yes"}},
        ),
    )
    drain(engine)
    stored = [(r["message_type"], r["content"], r["metadata"]) for r in inbound_rows(engine)]
    assert stored == [
        ("image", "[image]", {"wa_type": "image", "media_id": "MEDIA1", "mime_type": "image/jpeg"}),
        (
            "location",
            "[location] Hotel Avenida (38.7, -9.1)",
            {"wa_type": "location", "latitude": 38.7, "longitude": -9.1, "name": "Hotel Avenida"},
        ),
        ("text", "[audio]", {"wa_type": "audio", "media_id": "MEDIA2"}),
        ("text", "Yes", {"wa_type": "interactive"}),
    ]


def test_inbound_opens_the_24_hour_window_and_it_never_moves_back(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    ana, bea = traveller(engine), traveller(engine)
    assert not window_open(last_inbound_at(engine, ana), T0)
    later, earlier = T0 + timedelta(hours=2), T0 + timedelta(hours=1)
    deliver(
        http,
        receiver,
        meta.text_message(ana.phone, "hi", T0),
        meta.text_message(ana.phone, "there", later),
    )
    drain(engine)
    assert last_inbound_at(engine, ana) == later
    deliver(http, receiver, meta.text_message(ana.phone, "late delivery", earlier))
    drain(engine)
    assert last_inbound_at(engine, ana) == later  # an older message arriving late
    assert window_open(last_inbound_at(engine, ana), later + timedelta(hours=23, minutes=59))
    assert not window_open(last_inbound_at(engine, ana), later + timedelta(hours=24))
    assert last_inbound_at(engine, bea) is None


def test_unknown_sender_is_kept_for_review(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    stranger = "447700900123"
    message = meta.text_message(stranger, "STOP", T0)
    deliver(http, receiver, message, names={stranger: "Sam"})
    again = meta.payload(messages=[message])
    again["entry"][0]["id"] = "2048"
    assert post(http, receiver.url, again).status_code == 200
    assert drain(engine).unknown_senders == 1
    [kept] = rows(
        engine,
        "SELECT sender, external_id, message_type, content, intent, profile_name, "
        "phone_number_id, sent_at, payload, delivery_id IS NOT NULL AS linked "
        "FROM webhook_unknown_senders",
    )
    assert kept == {
        "sender": stranger,
        "external_id": message["id"],
        "message_type": "text",
        "content": "STOP",
        "intent": "stop",
        "profile_name": "Sam",
        "phone_number_id": meta.PHONE_NUMBER_ID,
        "sent_at": T0,
        "payload": message,
        "linked": True,
    }
    assert scalar(engine, "SELECT count(*) FROM whatsapp_messages") == 0
    assert scalar(engine, "SELECT count(*) FROM consent_events") == 0
