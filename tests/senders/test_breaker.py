"""A run of errors about one number opens its circuit: its messages wait, then one
probe goes when half-open and a success closes it; other numbers keep sending."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE, message
from tests.dispatch.conftest import Clock
from tests.dispatch.mock_api import UNPACED, accepted, client, queued, traveller
from tripcast.dispatch.dispatcher import drain, new_run
from tripcast.models.senders import WhatsAppSenderCreate
from tripcast.senders.registry import add_sender

pytestmark = pytest.mark.anyio

PORTUGAL = "2002"
numbers = iter(range(351912000400, 351912000500))


def promo(engine: Engine) -> object:
    who = traveller(engine, phone=str(next(numbers)))
    return queued(engine, who, message_type="template", metadata={"template": TEMPLATE})


async def test_open_then_probe_then_closed(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    failing = {"on": True}

    def respond(request: httpx.Request) -> httpx.Response:
        if failing["on"] and f"/{PORTUGAL}/" in request.url.path:
            error = {"message": "Something went wrong", "type": "OAuthException", "code": 131000}
            return httpx.Response(500, json={"error": error})
        return accepted(request)

    httpx_mock.add_callback(respond, is_reusable=True)
    with engine.begin() as connection:
        add_sender(connection, WhatsAppSenderCreate(phone_number_id="1234567890"))
        add_sender(connection, WhatsAppSenderCreate(phone_number_id=PORTUGAL, markets=["PT"]))
    failed = [promo(engine) for _ in range(5)]
    async with client() as whatsapp:
        run = new_run(engine, client=whatsapp, settings=UNPACED, now_fn=clock)
        await drain(run, batch_size=50)
        assert all(message(engine, m)["retry_count"] == 1 for m in failed)

        waiting = promo(engine)
        await drain(run, batch_size=50)
        row = message(engine, waiting)
        assert (row["status"], row["retry_count"]) == ("pending", 0)
        assert row["next_attempt_at"] == clock() + timedelta(seconds=30)
        calls = len(httpx_mock.get_requests())

        clock.advance(seconds=31)
        failing["on"] = False
        probe, other = promo(engine), promo(engine)
        await drain(run, batch_size=50)
        # Half-open: of every due message of the number, one probe goes; it succeeds.
        assert len(httpx_mock.get_requests()) == calls + 1
        statuses = [message(engine, m)["status"] for m in (*failed, waiting, probe, other)]
        assert sorted(statuses).count("sent") == 1

        clock.advance(seconds=6)
        await drain(run, batch_size=50)
        statuses = [message(engine, m)["status"] for m in (*failed, waiting, probe, other)]
        assert statuses == ["sent"] * 8
