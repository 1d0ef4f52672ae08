"""Running dispatchers against the fake: threads, a killable process, a webhook sink."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Engine

from tests.webhooks.builders import store_delivery
from tripcast.dispatch import DispatchReport, DispatchSettings, run_dispatch
from tripcast.webhooks.ingest import ingest_once
from tripcast.whatsapp.fake import FakeCloudApi

REPOSITORY = Path(__file__).resolve().parents[2]
UNSETTLED = (
    "SELECT count(*) FROM whatsapp_messages "
    "WHERE status = 'pending' AND direction = 'outbound' AND send_started_at IS NULL"
)


def unsettled(engine: Engine) -> int:
    """Messages that some dispatcher still has to send (now or after a backoff)."""
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(UNSETTLED).scalar_one())


def dispatch_until_settled(
    engine: Engine,
    fake: FakeCloudApi,
    settings: DispatchSettings,
    *,
    deadline: float,
    reports: list[DispatchReport],
) -> None:
    """One dispatcher: run after run (as the minute sweep would) until nothing is left."""
    while time.monotonic() < deadline:
        reports.append(
            run_dispatch(
                engine,
                client_factory=lambda: fake.client(timeout=0.5),
                settings=settings,
                batch_size=100,
            )
        )
        if unsettled(engine) == 0:
            return
        time.sleep(0.1)


@contextlib.contextmanager
def dispatcher_threads(
    engine: Engine, fake: FakeCloudApi, settings: DispatchSettings, *, count: int, timeout: float
) -> Iterator[list[DispatchReport]]:
    reports: list[DispatchReport] = []
    deadline = time.monotonic() + timeout
    threads = [
        threading.Thread(
            target=dispatch_until_settled,
            args=(engine, fake, settings),
            kwargs={"deadline": deadline, "reports": reports},
            name=f"dispatcher-{index}",
        )
        for index in range(count)
    ]
    for thread in threads:
        thread.start()
    try:
        yield reports
    finally:
        for thread in threads:
            thread.join(timeout + 10)


def start_worker_process(
    engine: Engine, fake: FakeCloudApi, settings: dict[str, Any], *, owner: str
) -> subprocess.Popen[str]:
    job = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "client": fake.client_options() | {"timeout": 0.5},
        "settings": settings,
        "batch_size": 100,
        "owner": owner,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.dispatch.worker"],
        cwd=REPOSITORY,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(job) + "\n")
    process.stdin.close()
    return process


@contextlib.contextmanager
def reconciling_webhook(engine: Engine) -> Iterator[str]:
    """A webhook endpoint that stores each delivery and ingests it at once: in-doubt
    messages are settled by the product's own ingest."""

    async def receive(request: web.Request) -> web.Response:
        data = json.loads(await request.read())
        with engine.begin() as connection:
            store_delivery(connection, data)
        await asyncio.to_thread(ingest_once, engine)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhooks/whatsapp", receive)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, name="webhook-sink", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/webhooks/whatsapp"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(runner.cleanup())
        loop.close()
