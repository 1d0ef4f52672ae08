"""The thin request layer: one POST to the messages endpoint, answers mapped to errors.

Two interchangeable endpoints. ``"aiohttp"`` (the default) posts through an
``aiohttp.ClientSession`` directly: at 1,000+ sends/s on two cores every microsecond
per request counts, and httpx's request and response models cost about as much again
as aiohttp's own work (measured with py-spy on the dispatch benchmark).
``transport=None`` (or ``"httpx-default"``, or any ``httpx.AsyncBaseTransport``) posts
through ``httpx.AsyncClient``, which pytest-httpx can mock. Both map Meta's answers and
network failures to the same errors.

Each POST has a total ``deadline`` besides the connect and per-read timeouts: an
answer that trickles in (a byte every few seconds) never trips a per-read timeout,
and must not hold a whole batch; past the deadline the send is in doubt on its own.
A request that HTTP refuses to build (a header with a newline, a bad URL) is a
``ConfigurationError``: nothing was sent, and no further send can be.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Literal, Protocol

import aiohttp
import httpx

from tripcast.whatsapp.api_errors import (
    ConfigurationError,
    MalformedResponseError,
    NetworkError,
    NetworkFailure,
)
from tripcast.whatsapp.error_codes import error_from_response
from tripcast.whatsapp.messages import SendResult
from tripcast.whatsapp.phone import mask_phone

logger = logging.getLogger("tripcast.whatsapp")

TransportName = Literal["aiohttp", "httpx-default"]
TransportChoice = TransportName | httpx.AsyncBaseTransport | None
_LONG_DIGIT_RUN = re.compile(r"\d{8,}")
# The total deadline of a POST, as a multiple of the connect / per-read timeout.
DEADLINE_PER_TIMEOUT = 1.5
# Errors raised while building the request, before anything leaves: the settings are
# unusable. Never echo their text: httpx's carries the offending header, the token.
_AIOHTTP_UNBUILDABLE = (ValueError, aiohttp.NonHttpUrlClientError)
_HTTPX_UNBUILDABLE = (
    ValueError,
    httpx.LocalProtocolError,
    httpx.UnsupportedProtocol,
    httpx.InvalidURL,
)


_JSON = {"Content-Type": "application/json"}


class MessagesEndpoint(Protocol):
    url: str

    async def post(self, payload: dict[str, Any], *, url: str | None = None) -> SendResult: ...

    async def exchange(
        self, payload: dict[str, Any], *, url: str | None = None
    ) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...


def build_endpoint(
    *,
    url: str,
    access_token: str,
    max_connections: int = 256,
    timeout: float = 10.0,
    deadline: float | None = None,
    transport: TransportChoice = "aiohttp",
) -> MessagesEndpoint:
    """``deadline`` bounds a whole POST (default: ``DEADLINE_PER_TIMEOUT`` × ``timeout``)."""
    total = deadline if deadline is not None else DEADLINE_PER_TIMEOUT * timeout
    if total <= 0:
        raise ValueError(f"deadline must be positive, got {total}")
    if transport == "aiohttp":
        return AiohttpMessagesEndpoint(
            url=url,
            access_token=access_token,
            max_connections=max_connections,
            timeout=timeout,
            deadline=total,
        )
    http = build_http_client(
        access_token=access_token,
        max_connections=max_connections,
        timeout=timeout,
        transport=transport,
    )
    return HttpxMessagesEndpoint(http, url=url, deadline=total)


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
    if transport is None or transport == "httpx-default":
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


class HttpxMessagesEndpoint:
    """``POST {base}/{version}/{phone_number_id}/messages`` through httpx."""

    def __init__(self, http: httpx.AsyncClient, *, url: str, deadline: float) -> None:
        self.http = http
        self.url = url
        self.deadline = deadline

    async def post(self, payload: dict[str, Any], *, url: str | None = None) -> SendResult:
        """Send one payload (to ``url``, another number's endpoint, when given); raise the
        ``WhatsAppError`` family that Meta's answer maps to."""
        status, content = await self.exchange(payload, url=url)
        return answer(status, content, recipient=mask_phone(str(payload.get("to", ""))))

    async def exchange(
        self, payload: dict[str, Any], *, url: str | None = None
    ) -> tuple[int, bytes]:
        """POST one payload; Meta's status and body, or a network / configuration error."""
        recipient = mask_phone(str(payload.get("to", "")))
        # Encoded here, so that the ValueErrors caught below can only be the request's.
        body = json.dumps(payload, ensure_ascii=False).encode()
        try:
            async with asyncio.timeout(self.deadline):
                response = await self.http.post(url or self.url, content=body, headers=_JSON)
        except _HTTPX_UNBUILDABLE as error:
            raise unbuildable(error) from None
        except (httpx.RequestError, aiohttp.ClientError, OSError) as error:
            if type(error) is TimeoutError:  # the deadline's own
                raise _past_deadline(self.deadline, recipient) from None
            raise _no_answer(error, recipient) from error
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self.http.aclose()


class AiohttpMessagesEndpoint:
    """``POST {base}/{version}/{phone_number_id}/messages`` through aiohttp.

    The session is opened on the first send, inside the running event loop.
    """

    def __init__(
        self, *, url: str, access_token: str, max_connections: int, timeout: float, deadline: float
    ):
        self.url = url
        self.deadline = deadline
        self._headers = {
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/json",
        }
        self._max_connections = max_connections
        # Connect and read limits like httpx's: a connect timeout is "not sent", a read
        # timeout is in doubt; the total deadline is applied around each POST.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout, sock_connect=timeout, sock_read=timeout
        )
        self._session: aiohttp.ClientSession | None = None

    def _opened(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers=self._headers
            )
        return self._session

    async def post(self, payload: dict[str, Any], *, url: str | None = None) -> SendResult:
        """Send one payload (to ``url``, another number's endpoint, when given); raise the
        ``WhatsAppError`` family that Meta's answer maps to."""
        status, content = await self.exchange(payload, url=url)
        return answer(status, content, recipient=mask_phone(str(payload.get("to", ""))))

    async def exchange(
        self, payload: dict[str, Any], *, url: str | None = None
    ) -> tuple[int, bytes]:
        """POST one payload; Meta's status and body, or a network / configuration error."""
        recipient = mask_phone(str(payload.get("to", "")))
        body = json.dumps(payload, ensure_ascii=False).encode()
        try:
            async with asyncio.timeout(self.deadline):
                return await self._exchange(body, url or self.url)
        except _AIOHTTP_UNBUILDABLE as error:
            raise unbuildable(error) from None
        except (aiohttp.ClientError, OSError) as error:
            # aiohttp's own timeouts are TimeoutErrors too; only a bare one is the deadline.
            if type(error) is TimeoutError:
                raise _past_deadline(self.deadline, recipient) from None
            raise _no_answer(error, recipient) from error

    async def _exchange(self, body: bytes, url: str) -> tuple[int, bytes]:
        async with self._opened().post(url, data=body, allow_redirects=False) as sent:
            return sent.status, await sent.read()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def answer(status: int, content: bytes, *, recipient: str) -> SendResult:
    """Meta's answer to a send: the result, or the ``WhatsAppError`` it maps to."""
    if 200 <= status < 300:
        return _send_result(status, content)
    refused = error_from_response(status, content)
    logger.warning("send to %s refused: %s", recipient, redact(str(refused)))
    raise refused


def _no_answer(error: BaseException, recipient: str) -> NetworkError:
    failure = network_error(error)
    logger.warning("send to %s: no answer (%s)", recipient, failure)
    return failure


def _past_deadline(deadline: float, recipient: str) -> NetworkError:
    logger.warning("send to %s: no complete answer within %gs", recipient, deadline)
    return NetworkError(
        f"timed out: no complete answer within the {deadline:g}s deadline", failure="timeout"
    )


def unbuildable(error: BaseException) -> ConfigurationError:
    """A request HTTP refused to build: the settings, not the message, are at fault."""
    logger.error("cannot send: the request could not be built (%s)", type(error).__name__)
    return ConfigurationError(
        "the request could not be built: the access token, API URL or phone number id is "
        f"not valid in an HTTP request ({type(error).__name__}); check the "
        "TRIPCAST_WHATSAPP_* settings"
    )


def _send_result(status: int, content: bytes) -> SendResult:
    try:
        return SendResult.from_response(json.loads(content))
    except ValueError as error:
        # 200 means Meta accepted the message: without a wamid it is in doubt.
        raise MalformedResponseError(
            f"HTTP {status} accepted, but the body is not a send result: {error}",
            http_status=status,
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
    # An httpx transport built on aiohttp maps its errors loosely (a dropped connection
    # becomes httpx.ConnectTimeout), so the original aiohttp error decides when there is one.
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
