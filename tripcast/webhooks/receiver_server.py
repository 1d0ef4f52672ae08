"""Serving the receiver with uvicorn: in the foreground (the CLI) or in a background
thread (the demo and the tests), optionally with an ingest loop beside it.

uvicorn's access log stays off: a handshake's query string carries the verify token.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from tripcast.metrics.exposition import own_engine
from tripcast.models.engine import create_db_engine, sqlalchemy_url
from tripcast.settings import ENV_PREFIX, ConfigError, Settings
from tripcast.webhooks.deliveries import DeliveryStore, psycopg_conninfo
from tripcast.webhooks.receiver import PATH, create_app

SHUTDOWN_SECONDS = 5  # requests in flight when asked to stop are finished, not cut


@dataclass(frozen=True)
class ReceiverConfig:
    database_url: str  # SQLAlchemy or libpq URL of the database holding the inbox
    app_secret: str
    verify_token: str
    pool_size: int = 4


def config_from_settings(settings: Settings) -> ReceiverConfig:
    """The receiver's settings; a missing secret fails with one line naming the variable."""
    secrets = {}
    for name in ("whatsapp_app_secret", "whatsapp_verify_token"):
        value = getattr(settings, name)
        # An empty app secret would make every signature trivially forgeable.
        if value is None or not value.get_secret_value().strip():
            raise ConfigError(f"{ENV_PREFIX}{name.upper()} is not set (required here)")
        secrets[name] = value.get_secret_value()
    return ReceiverConfig(
        database_url=sqlalchemy_url(settings),
        app_secret=secrets["whatsapp_app_secret"],
        verify_token=secrets["whatsapp_verify_token"],
    )


def build_app(config: ReceiverConfig) -> Starlette:
    store = DeliveryStore(psycopg_conninfo(config.database_url), size=config.pool_size)
    # /metrics and /readyz on a pool of their own, apart from the store's.
    engine = own_engine(config.database_url)
    return create_app(
        store=store,
        app_secret=config.app_secret,
        verify_token=config.verify_token,
        engine=engine,
    )


def run_receiver(
    *, host: str = "127.0.0.1", port: int = 8088, settings: Settings, ingest: bool = False
) -> None:
    """Serve until interrupted (``tripcast webhook``); ``ingest`` also applies deliveries."""
    config = config_from_settings(settings)
    server = uvicorn.Server(_uvicorn_config(build_app(config), host=host, port=port))
    with ingest_beside(config.database_url, enabled=ingest):
        server.run()


@contextlib.contextmanager
def ingest_beside(database_url: str, *, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    from tripcast.webhooks.follow import follow

    stop = threading.Event()
    engine = create_db_engine(database_url)
    worker = threading.Thread(
        target=follow, args=(engine,), kwargs={"stop": stop}, name="webhook-ingest", daemon=True
    )
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=10)
        engine.dispose()


class BackgroundReceiver:
    """A receiver on a loopback port in a thread of this process; ``stop`` is graceful."""

    def __init__(self, config: ReceiverConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = _bind(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        self._server = uvicorn.Server(_uvicorn_config(build_app(config), host=host, port=port))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + PATH

    def start(self, timeout: float = 10.0) -> BackgroundReceiver:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = SHUTDOWN_SECONDS + 5) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()


@contextlib.contextmanager
def running_receiver(
    config: ReceiverConfig, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[BackgroundReceiver]:
    """A receiver on ``port`` (0: a free one) for the duration of the block."""
    receiver = BackgroundReceiver(config, host=host, port=port).start()
    try:
        yield receiver
    finally:
        receiver.stop()


def _bind(host: str, port: int) -> socket.socket:
    # proto given explicitly: asyncio sets TCP_NODELAY on accepted connections only when
    # the listening socket says IPPROTO_TCP; with proto 0 every answer waits ~40 ms for
    # the peer's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # A restarted receiver takes its port back at once (no wait for TIME_WAIT).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _uvicorn_config(app: Starlette, *, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
        backlog=2048,
    )
