"""The same three endpoints as Starlette routes, for an app that already serves HTTP
(the webhook receiver answers them on its own port)."""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tripcast.metrics.exposition import registry_for, scrape
from tripcast.metrics.health import check_ready


def health_routes(engine: Engine | None) -> list[Route]:
    """``/metrics`` and ``/healthz``, and with a database ``/readyz`` and its gauges."""
    registry = registry_for(engine)

    async def metrics(request: Request) -> Response:
        # The database reads block: off the event loop, which keeps answering Meta.
        body = await asyncio.to_thread(scrape, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    routes = [
        Route("/metrics", metrics, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if engine is None:
        return routes

    async def readyz(request: Request) -> Response:
        readiness = await asyncio.to_thread(check_ready, engine)
        return PlainTextResponse(f"{readiness.reason}\n", 200 if readiness.ready else 503)

    return [*routes, Route("/readyz", readyz, methods=["GET"])]
