"""A small webhook receiver on loopback that records what the fake delivers."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from aiohttp import web

from tests.support.net import wait_until
from tripcast.whatsapp.webhook import SIGNATURE_HEADER


@dataclass(frozen=True)
class Delivery:
    body: bytes
    signature: str | None


class WebhookReceiver:
    def __init__(self) -> None:
        self.url = ""
        self.deliveries: list[Delivery] = []
        self.refuse_next = 0  # answer 500 to this many deliveries first
        self.refused = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.refuse_next > 0:
            self.refuse_next -= 1
            self.refused += 1
            return web.Response(status=500)
        self.deliveries.append(Delivery(body, request.headers.get(SIGNATURE_HEADER)))
        return web.Response(text="ok")

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        wait_until(condition, timeout, detail=lambda: f"{len(self.deliveries)} deliveries")


@contextlib.contextmanager
def running_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    app = web.Application()
    app.router.add_post("/webhooks/whatsapp", receiver.handle)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    ready = threading.Event()

    def serve() -> None:
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        port = runner.addresses[0][1]
        receiver.url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield receiver
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
