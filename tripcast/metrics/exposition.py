"""``/metrics``, ``/healthz`` and ``/readyz`` on a port of their own, in a background
thread: for processes with no web server of their own (``tripcast serve``, the
always-on dispatcher). The webhook receiver adds the same routes to its app
(``tripcast.metrics.routes``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from tripcast.metrics.collector import STATEMENT_TIMEOUT_MS, DatabaseCollector
from tripcast.metrics.health import check_ready
from tripcast.metrics.registry import PROCESS
from tripcast.models.engine import create_db_engine
from tripcast.settings import ENV_PREFIX, ConfigError

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_SECONDS = 2


class _Process(Collector):
    """The process-wide counters, forwarded into an endpoint's registry."""

    def collect(self) -> Iterable[Metric]:
        return PROCESS.collect()


def registry_for(
    engine: Engine | None, *, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS
) -> CollectorRegistry:
    """What one endpoint exposes: the database gauges of ``engine`` (read first, so a
    failed read is already counted in this scrape) and the process's own metrics."""
    registry = CollectorRegistry()
    if engine is not None:
        registry.register(DatabaseCollector(engine, statement_timeout_ms=statement_timeout_ms))
    registry.register(_Process())
    return registry


def scrape(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


class MetricsServer:
    """A small threaded HTTP server; ``stop`` closes it."""

    def __init__(self, engine: Engine, *, host: str, port: int) -> None:
        handler = _handler(engine, registry_for(engine))
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as error:
            raise ConfigError(
                f"{ENV_PREFIX}METRICS_PORT={port} cannot be used on {host}: "
                f"{error.strerror or error}; choose a free port, or 0 for no metrics endpoint"
            ) from None
        self._server.daemon_threads = True
        self.host, self.port = str(host), int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="tripcast-metrics", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_metrics(engine: Engine, *, port: int, host: str = "0.0.0.0") -> MetricsServer | None:
    """Serve /metrics, /healthz and /readyz on ``port`` in a daemon thread until the
    process exits (``port`` 0: nothing is served). A port that cannot be bound fails
    with a ``ConfigError`` naming ``TRIPCAST_METRICS_PORT``."""
    if port == 0:
        return None
    url = engine.url.render_as_string(hide_password=False)
    server = MetricsServer(own_engine(url), host=host, port=port).start()
    log.info("metrics, health and readiness on %s", server.base_url)
    return server


def own_engine(url: str) -> Engine:
    """A small pool of its own on the database at ``url``, with a connect timeout: a scrape
    never waits for (or holds) a connection the process's work needs, and an unreachable
    host answers /readyz in seconds."""
    return create_db_engine(
        url,
        pool_size=1,
        max_overflow=1,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


def _handler(engine: Engine, registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._answer(HTTPStatus.OK, scrape(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._answer(HTTPStatus.OK, b"ok\n")
            elif path == "/readyz":
                readiness = check_ready(engine)
                status = HTTPStatus.OK if readiness.ready else HTTPStatus.SERVICE_UNAVAILABLE
                self._answer(status, f"{readiness.reason}\n".encode())
            else:
                self._answer(HTTPStatus.NOT_FOUND, b"not found: /metrics, /healthz, /readyz\n")

        def _answer(self, status: HTTPStatus, body: bytes, kind: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per scrape on stderr would drown the process's own log

    return Handler
