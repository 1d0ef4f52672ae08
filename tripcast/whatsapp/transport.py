"""The thin request layer: one POST to the messages endpoint, answers mapped to errors.

httpx's default async transport stalls past about 64 requests in flight on two
cores; the ``httpx-aiohttp`` transport keeps httpx's API and sustains well over
1,000 sends/s, so it is the default. ``transport=None`` (or ``"httpx-default"``)
selects httpx's own transport, which pytest-httpx can mock.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from tripcast.whatsapp.errors import (
    MalformedResponseError,
    NetworkError,
    NetworkFailure,
    error_from_response,
)
from tripcast.whatsapp.messages import SendResult
from tripcast.whatsapp.phone import mask_phone

logger = logging.getLogger("tripcast.whatsapp")

TransportName = Literal["aiohttp", "httpx-default"]
TransportChoice = TransportName | httpx.AsyncBaseTransport | None
_LONG_DIGIT_RUN = re.compile(r"\d{8,}")


def build_http_client(
    *,
    access_token: str,
    max_connections: int = 256,
    timeout: float = 10.0,
    transport: TransportChoice = "aiohttp",
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` carrying the bearer token, on the chosen transport."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    chosen: httpx.AsyncBaseTransport | None
    if transport == "aiohttp":
        chosen = AiohttpTransport(limits=limits)
    elif transport is None or transport == "httpx-default":
        chosen = None  # httpx builds its own from ``limits``
    elif isinstance(transport, httpx.AsyncBaseTransport):
        chosen = transport
    else:
        raise ValueError(f"unknown transport {transport!r}: use 'aiohttp' or 'httpx-default'")
    return httpx.AsyncClient(
        transport=chosen,
        limits=limits,
        timeout=httpx.Timeout(timeout),
        headers={"Authorization": f"Bearer {access_token}"},
        follow_redirects=False,
    )


class MessagesEndpoint:
    """``POST {base}/{version}/{phone_number_id}/messages`` and nothing else."""

    def __init__(self, http: httpx.AsyncClient, *, url: str) -> None:
        self._http = http
        self.url = url

    async def post(self, payload: dict[str, Any]) -> SendResult:
        """Send one payload; raise the ``WhatsAppError`` family that Meta's answer maps to."""
        recipient = mask_phone(str(payload.get("to", "")))
        try:
            response = await self._http.post(self.url, json=payload)
        except (httpx.RequestError, aiohttp.ClientError, OSError) as error:
            failure = network_error(error)
            logger.warning("send to %s: no answer (%s)", recipient, failure)
            raise failure from error
        if response.is_success:
            return _send_result(response)
        refused = error_from_response(response.status_code, response.content)
        logger.warning("send to %s refused: %s", recipient, redact(str(refused)))
        raise refused


def _send_result(response: httpx.Response) -> SendResult:
    try:
        return SendResult.from_response(response.json())
    except ValueError as error:
        # 200 means Meta accepted the message: without a wamid it is in doubt.
        raise MalformedResponseError(
            f"HTTP {response.status_code} accepted, but the body is not a send result: {error}",
            http_status=response.status_code,
        ) from error


def network_error(error: BaseException) -> NetworkError:
    """Classify a failure without an answer, keeping whether the request may have landed."""
    failure = _network_failure(error)
    what = {
        "connect": "could not connect (request not sent)",
        "timeout": "timed out waiting for the answer",
        "disconnect": "connection dropped before the answer",
    }[failure]
    return NetworkError(f"{what}: {type(error).__name__}: {error}", failure=failure)


def _network_failure(error: BaseException) -> NetworkFailure:
    # The aiohttp transport maps its errors loosely (a dropped connection becomes
    # httpx.ConnectTimeout), so the original aiohttp error decides when there is one.
    cause = error.__cause__ if isinstance(error.__cause__, aiohttp.ClientError) else error
    if isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return "connect"
    if isinstance(cause, aiohttp.ServerTimeoutError):
        return "timeout"
    if isinstance(cause, aiohttp.ClientError):
        return "disconnect"
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return "connect"
    if isinstance(cause, httpx.TimeoutException | TimeoutError):
        return "timeout"
    if isinstance(cause, ConnectionRefusedError):
        return "connect"
    return "disconnect"


def redact(text: str) -> str:
    """Mask long digit runs (phone numbers) in text bound for logs."""
    return _LONG_DIGIT_RUN.sub(lambda match: mask_phone(match.group()), text)
