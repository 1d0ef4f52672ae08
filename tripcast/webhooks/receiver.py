"""The webhook receiver: an ASGI app on ``/webhooks/whatsapp`` (and ``/metrics``,
``/healthz``, ``/readyz``).

``GET`` answers Meta's verify-token handshake. ``POST`` checks, in this order: size
(over 3 MB → 413, before reading further), ``X-Hub-Signature-256`` over the raw bytes
(missing → 401, wrong → 403), shape (not JSON or not a Cloud API delivery → 400); then
stores the delivery durably and answers 200. Nothing is stored for a refused request,
and nothing heavier than one INSERT happens per request: statuses and messages are
applied by the ingest. When the database does not take the delivery the answer is 503,
so Meta delivers it again later rather than it being acknowledged and lost. A client
that hangs up mid-body costs one INFO line. Any other body is answered 2xx or 4xx.

Logs never carry the body, the secrets or the query string (it holds the verify token).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tripcast.exceptions import TripcastError
from tripcast.metrics import record_webhook_delivery, record_webhook_refusal
from tripcast.metrics.routes import health_routes
from tripcast.webhooks.deliveries import DeliveryStore, StoreUnavailable, Unstorable
from tripcast.whatsapp.webhook import (
    SIGNATURE_HEADER,
    InvalidWebhookPayload,
    WebhookPayload,
    answer_verification,
    parse_webhook,
    verify_signature,
)

log = logging.getLogger(__name__)

PATH = "/webhooks/whatsapp"
MAX_BODY = 3 * 1024 * 1024  # Meta's documented ceiling for one delivery


class _TooLarge(TripcastError):
    pass


class _Receiver:
    def __init__(
        self, *, store: DeliveryStore, app_secret: str, verify_token: str, max_body: int
    ) -> None:
        self.store = store
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.max_body = max_body

    async def handshake(self, request: Request) -> Response:
        status, text = answer_verification(request.query_params, verify_token=self.verify_token)
        if status != 200:
            log.warning("webhook verification refused")
        return PlainTextResponse(text, status_code=status)

    async def receive(self, request: Request) -> Response:
        try:
            raw = await _read_limited(request, self.max_body)
        except _TooLarge:
            return _refuse(413, f"body larger than {self.max_body} bytes")
        except ClientDisconnect:
            # Nobody is left to answer and nothing was stored: one line, no traceback, at a
            # level that pages nobody (a thousand of these are a client's problem).
            log.info("webhook client disconnected before the body was complete")
            return Response(status_code=400)
        header = request.headers.get(SIGNATURE_HEADER)
        if not header:
            return _refuse(401, f"missing {SIGNATURE_HEADER} header")
        if not verify_signature(self.app_secret, raw, header):
            return _refuse(403, f"{SIGNATURE_HEADER} does not match the body")
        try:
            payload = parse_webhook(raw)
            text = raw.decode()
        except (InvalidWebhookPayload, UnicodeDecodeError) as error:
            return _refuse(400, str(error))
        digest = hashlib.sha256(raw).hexdigest()
        try:
            new = await self.store.store(digest=digest, body=text, items=item_count(payload))
        except Unstorable as error:
            return _refuse(400, str(error))
        except StoreUnavailable as error:
            log.error("webhook delivery not stored, answered 503: %s", error)
            record_webhook_refusal(503)
            return JSONResponse({"error": "storage unavailable, deliver again later"}, 503)
        record_webhook_delivery("stored" if new else "duplicate")
        return JSONResponse({"status": "stored" if new else "duplicate"})


def create_app(
    *,
    store: DeliveryStore,
    app_secret: str,
    verify_token: str,
    max_body: int = MAX_BODY,
    engine: Engine | None = None,
) -> Starlette:
    """The receiver; it owns ``store`` (and ``engine``, which serves the database gauges
    and readiness) and closes them on shutdown."""
    receiver = _Receiver(
        store=store, app_secret=app_secret, verify_token=verify_token, max_body=max_body
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await store.close()
        if engine is not None:
            engine.dispose()

    routes = [
        Route(PATH, receiver.handshake, methods=["GET"]),
        Route(PATH, receiver.receive, methods=["POST"]),
        *health_routes(engine),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def item_count(payload: WebhookPayload) -> int:
    """Statuses plus inbound messages: what the ingest will have to apply."""
    return sum(len(v.statuses) + len(v.messages) for v in payload.message_values())


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(status: int, reason: str) -> Response:
    log.warning("webhook delivery refused with %d: %s", status, reason)
    record_webhook_refusal(status)
    return JSONResponse({"error": reason}, status_code=status)
