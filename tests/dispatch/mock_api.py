"""The Cloud API mocked with pytest-httpx, and dispatch runs against it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import Traveller, make_traveller, queue_message
from tests.dispatch.conftest import NOW, Clock
from tripcast.dispatch import DispatchReport, DispatchSettings, dispatch_pending
from tripcast.whatsapp.client import WhatsAppClient

URL = "https://graph.example/v23.0/1234567890/messages"


def client() -> WhatsAppClient:
    return WhatsAppClient(
        base_url="https://graph.example",
        phone_number_id="1234567890",
        access_token="token",
        transport=None,  # httpx's own transport, which pytest-httpx intercepts
        timeout=2.0,
    )


def accepted(request: httpx.Request) -> httpx.Response:
    """Meta's 200 for a send, its wamid derived from the callback data."""
    body = json.loads(request.content)
    return httpx.Response(
        200,
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": f"wamid.{body['biz_opaque_callback_data']}"}],
        },
    )


def accept_all(httpx_mock: HTTPXMock, *, url: str | None = URL) -> None:
    """Every send (to ``url``; None: from any number) accepted."""
    httpx_mock.add_callback(accepted, url=url, is_reusable=True, is_optional=True)


def refuse(httpx_mock: HTTPXMock, code: int, message: str, status: int = 400) -> None:
    body = {"error": {"message": message, "type": "OAuthException", "code": code}}
    httpx_mock.add_response(url=URL, status_code=status, json=body)


def posted(httpx_mock: HTTPXMock) -> list[dict[str, Any]]:
    return [json.loads(request.content) for request in httpx_mock.get_requests()]


OPEN_WINDOW = NOW - timedelta(hours=1)
UNPACED = DispatchSettings(send_rate=None, lanes=1)


async def dispatch(
    engine: Engine, clock: Clock, settings: DispatchSettings = UNPACED, **options: Any
) -> DispatchReport:
    async with client() as whatsapp:
        return await dispatch_pending(
            engine, client=whatsapp, settings=settings, now_fn=clock, **options
        )


def traveller(engine: Engine, **options: Any) -> Traveller:
    options.setdefault("last_inbound_at", OPEN_WINDOW)
    with engine.begin() as connection:
        return make_traveller(connection, **options)


def queued(engine: Engine, who: Traveller, **options: Any) -> Any:
    with engine.begin() as connection:
        return queue_message(connection, who, **options)
