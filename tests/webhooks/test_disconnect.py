"""A client that disconnects mid-body costs one short line, never an ERROR traceback."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.webhooks.conftest import APP_SECRET, VERIFY_TOKEN
from tripcast.webhooks.deliveries import DeliveryStore, psycopg_conninfo
from tripcast.webhooks.receiver import PATH, create_app
from tripcast.webhooks.receiver_server import BackgroundReceiver

pytestmark = pytest.mark.integration


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [line for r in self.records for line in self.format(r).splitlines()]


@pytest.fixture
def records() -> Iterator[Records]:
    """Everything the receiver and uvicorn log (uvicorn's loggers do not propagate)."""
    handler = Records()
    loggers = [logging.getLogger(name) for name in ("tripcast", "uvicorn", "uvicorn.error")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8088),
    }


async def post_then_hang_up(app: Any) -> list[dict[str, Any]]:
    events = iter(
        [
            {"type": "http.request", "body": b'{"object": "whatsapp_', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(events, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope(), receive, send)
    return sent


def test_the_app_answers_a_disconnect_with_one_info_line(engine: Engine, records: Records) -> None:
    store = DeliveryStore(psycopg_conninfo(engine.url.render_as_string(hide_password=False)))
    app = create_app(store=store, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN)
    asyncio.run(post_then_hang_up(app))  # raises today: ClientDisconnect
    assert len(records.records) == 1
    assert records.records[0].levelno <= logging.INFO
    assert "disconnected" in records.records[0].getMessage()


def test_a_real_receiver_logs_one_short_line_per_disconnect(
    receiver: BackgroundReceiver, records: Records
) -> None:
    for _ in range(5):
        with socket.create_connection((receiver.host, receiver.port)) as sock:
            sock.sendall(
                f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                'Content-Length: 5000\r\n\r\n{"object": '.encode()
            )
    deadline = time.monotonic() + 10
    while len(records.records) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)  # polling for the five lines, with a deadline
    assert len(records.records) == 5, records.lines()
    assert all(r.levelno < logging.WARNING for r in records.records)
    assert len(records.lines()) == 5  # no traceback lines
