"""Answered travellers' latest messages are marked read once, with the typing indicator
while the answer waits to leave; others are left alone (real PostgreSQL, pytest-httpx)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Connection, Engine

from tests.webhooks.builders import Traveller, make_outbound, make_traveller, rows
from tests.whatsapp.meta_bodies import meta_error
from tripcast.conversations.acknowledge import acknowledge_answers
from tripcast.whatsapp.client import WhatsAppClient

pytestmark = pytest.mark.anyio

NOW = datetime.now(UTC)
MESSAGES = "https://graph.example/v23.0/1234567890/messages"


def client() -> WhatsAppClient:
    return WhatsAppClient(
        base_url="https://graph.example",
        api_version="v23.0",
        phone_number_id="1234567890",
        access_token="token",
        transport=None,
    )


def inbound(connection: Connection, who: Traveller, wamid: str, *, age: timedelta) -> uuid.UUID:
    row: uuid.UUID = connection.exec_driver_sql(
        "INSERT INTO whatsapp_messages (user_id, whatsapp_account_id, direction, message_type, "
        "content, external_id, status, delivered_at) VALUES (%(u)s, %(a)s, 'inbound', 'text', "
        "'Can we meet at 9?', %(w)s, 'delivered', %(at)s) RETURNING id",
        {"u": who.user, "a": who.account, "w": wamid, "at": NOW - age},
    ).scalar_one()
    return row


def posted(httpx_mock: HTTPXMock) -> list[dict[str, object]]:
    return [json.loads(request.content) for request in httpx_mock.get_requests()]


async def test_answered_travellers_are_marked_read_once(
    engine: Engine, httpx_mock: HTTPXMock
) -> None:
    with engine.begin() as connection:
        waiting, sent, stale, unanswered, early = (make_traveller(connection) for _ in range(5))
        inbound(connection, waiting, "wamid.OLDER", age=timedelta(hours=3))
        latest = inbound(connection, waiting, "wamid.WAITING", age=timedelta(hours=1))
        make_outbound(connection, waiting, status="pending")  # the answer, due now
        inbound(connection, sent, "wamid.SENT", age=timedelta(minutes=5))
        make_outbound(connection, sent, status="sent", wamid="wamid.OUT")
        inbound(connection, stale, "wamid.STALE", age=timedelta(hours=25))  # window closed
        make_outbound(connection, stale, status="pending")
        inbound(connection, unanswered, "wamid.UNANSWERED", age=timedelta(minutes=5))
        inbound(connection, early, "wamid.EARLY", age=timedelta(minutes=5))
        # Queued before the traveller wrote, and due tomorrow: neither answers them now.
        make_outbound(connection, early, status="sent", created_at=NOW - timedelta(days=1))
        make_outbound(connection, early, status="pending", next_attempt_at=NOW + timedelta(days=1))
    httpx_mock.add_response(method="POST", url=MESSAGES, json={"success": True}, is_reusable=True)
    async with client() as whatsapp:
        report = await acknowledge_answers(engine, whatsapp, now=NOW)
        again = await acknowledge_answers(engine, whatsapp, now=NOW + timedelta(minutes=1))
    assert sorted(posted(httpx_mock), key=lambda p: str(p["message_id"])) == [
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.SENT"},
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.WAITING",
         "typing_indicator": {"type": "text"}},
    ]  # fmt: skip
    assert (report.marked_read, report.typing_shown, again.marked_read) == (2, 1, 0)
    marked = rows(engine, "SELECT metadata, read_at FROM whatsapp_messages WHERE id = %(id)s",
                  id=latest)  # fmt: skip
    assert marked[0]["metadata"]["typing_shown"] is True
    assert marked[0]["read_at"] == NOW


async def test_a_refused_receipt_is_kept_and_not_retried(
    engine: Engine, httpx_mock: HTTPXMock
) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        message = inbound(connection, who, "wamid.GONE", age=timedelta(minutes=2))
        make_outbound(connection, who, status="sent", wamid="wamid.REPLY")
    httpx_mock.add_response(method="POST", url=MESSAGES, status_code=400,
                            json=meta_error(100, "Invalid parameter"))  # fmt: skip
    async with client() as whatsapp:
        first = await acknowledge_answers(engine, whatsapp, now=NOW, typing=False)
        second = await acknowledge_answers(engine, whatsapp, now=NOW)
    assert (first.refused, second.refused, len(httpx_mock.get_requests())) == (1, 0, 1)
    kept = rows(engine, "SELECT metadata, read_at FROM whatsapp_messages WHERE id = %(id)s",
                id=message)  # fmt: skip
    assert "Invalid parameter" in kept[0]["metadata"]["read_mark_failed"]
    assert kept[0]["read_at"] is None


async def test_an_expired_token_leaves_every_receipt_for_the_next_run(
    engine: Engine, httpx_mock: HTTPXMock
) -> None:
    with engine.begin() as connection:
        for n in range(3):
            who = make_traveller(connection)
            inbound(connection, who, f"wamid.T{n}", age=timedelta(minutes=2))
            make_outbound(connection, who, status="sent", wamid=f"wamid.R{n}")
    httpx_mock.add_response(method="POST", url=MESSAGES, status_code=401,
                            json=meta_error(190, "Access token has expired"))  # fmt: skip
    async with client() as whatsapp:
        report = await acknowledge_answers(engine, whatsapp, now=NOW)
    assert (report.marked_read, report.refused, report.postponed) == (0, 0, 3)
    assert len(httpx_mock.get_requests()) == 1  # stopped at the first: no point going on
    assert rows(engine, "SELECT 1 FROM whatsapp_messages WHERE metadata ? 'read_mark_failed'") == []
