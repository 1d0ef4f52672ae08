"""A request's total deadline, and requests HTTP refuses to build, on both transports.

A raw asyncio server on loopback misbehaves in ways no mock can: it stays silent,
stalls after its headers, or trickles its body a byte at a time so that no single read
ever waits long enough for a per-read timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tripcast.whatsapp.api_errors import ConfigurationError, NetworkError
from tripcast.whatsapp.client import WhatsAppClient
from tripcast.whatsapp.transport import TransportName

Behaviour = Literal["silent", "stall_after_headers", "trickle"]
TRANSPORTS: list[TransportName] = ["aiohttp", "httpx-default"]
BODY = b'{"messaging_product":"whatsapp","contacts":[],"messages":[{"id":"wamid.x"}]}'
HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n"
)
# What may pass between the deadline and the error reaching the caller: closing the
# connection and scheduling, on a loaded two-core machine.
SLACK_SECONDS = 0.5


@asynccontextmanager
async def misbehaving_server(behaviour: Behaviour, *, interval: float) -> AsyncIterator[str]:
    """A loopback 'Cloud API' answering every POST the way ``behaviour`` says."""
    received = asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            received.set()
            if behaviour != "silent":
                writer.write(HEAD)
                await writer.drain()
            for index in range(len(BODY) if behaviour == "trickle" else 0):
                await asyncio.sleep(interval)
                writer.write(BODY[index : index + 1])
                await writer.drain()
            await asyncio.Event().wait()  # never finish on our own
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


def client(base_url: str, transport: TransportName, **options: object) -> WhatsAppClient:
    return WhatsAppClient(
        phone_number_id="106540352242922",
        access_token=str(options.pop("access_token", "EAAG-token")),
        base_url=base_url,
        transport=transport,
        **options,  # type: ignore[arg-type]
    )


async def timed_send(
    behaviour: Behaviour, transport: TransportName, *, deadline: float, interval: float
) -> tuple[BaseException, float]:
    async with misbehaving_server(behaviour, interval=interval) as url:
        # Per-read timeout far beyond the deadline: only the deadline can end it.
        whatsapp = client(url, transport, timeout=30.0, deadline=deadline)
        try:
            started = time.monotonic()
            await whatsapp.send_text("+351912345678", "Boa viagem")
        except NetworkError as error:
            return error, time.monotonic() - started
        finally:
            await whatsapp.aclose()
    raise AssertionError("the send succeeded against a server that never finishes")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_trickling_answer_is_given_up_at_the_deadline_as_in_doubt(
    transport: TransportName,
) -> None:
    # One byte every 0.2 s: a 10 s per-read timeout would wait 15 s for this body.
    error, elapsed = asyncio.run(timed_send("trickle", transport, deadline=1.0, interval=0.2))
    assert elapsed < 1.0 + SLACK_SECONDS
    assert isinstance(error, NetworkError)
    assert (error.failure, error.in_doubt, error.transient) == ("timeout", True, True)
    assert "1s deadline" in str(error)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    behaviour=st.sampled_from(["silent", "stall_after_headers", "trickle"]),
    transport=st.sampled_from(TRANSPORTS),
    deadline=st.floats(min_value=0.1, max_value=0.5),
    interval=st.floats(min_value=0.01, max_value=0.2),
)
def test_an_answer_that_never_completes_costs_at_most_the_deadline(
    behaviour: Behaviour, transport: TransportName, deadline: float, interval: float
) -> None:
    error, elapsed = asyncio.run(
        timed_send(behaviour, transport, deadline=deadline, interval=interval)
    )
    assert elapsed <= deadline + SLACK_SECONDS
    assert isinstance(error, NetworkError) and error.in_doubt


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("token", ["EAAG-secret-token\n", "EAAG-secret-token\r\nX-Injected: 1"])
def test_a_token_http_refuses_is_a_configuration_error_nothing_sent(
    transport: TransportName, token: str
) -> None:
    async def attempt() -> BaseException:
        async with misbehaving_server("silent", interval=0) as url:
            whatsapp = client(url, transport, access_token=token, timeout=2.0)
            try:
                await whatsapp.send_text("+351912345678", "Boa viagem")
            except ConfigurationError as error:
                return error
            finally:
                await whatsapp.aclose()
        raise AssertionError("a header with a newline was sent")

    error = asyncio.run(attempt())
    assert isinstance(error, ConfigurationError)
    assert (error.fatal, error.in_doubt, error.transient) == (True, False, False)
    assert "TRIPCAST_WHATSAPP_" in str(error)
    assert "secret" not in str(error)  # httpx's own message quotes the header: never kept
    assert error.__cause__ is None and error.__suppress_context__
