"""/metrics, /healthz and /readyz served from a background thread (``serve_metrics``)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.metrics.support import parse, value
from tripcast.metrics import MetricsServer, serve_metrics
from tripcast.models import migrate
from tripcast.models.engine import create_db_engine
from tripcast.settings import ConfigError


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture
def server(engine: Engine) -> Iterator[MetricsServer]:
    running = MetricsServer(engine, host="127.0.0.1", port=0).start()
    yield running
    running.stop()


def test_metrics_health_and_readiness_at_head(server: MetricsServer, http: httpx.Client) -> None:
    metrics = http.get(server.base_url + "/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=")
    assert value(parse(metrics.text), "tripcast_webhook_backlog") == 0
    assert http.get(server.base_url + "/healthz").status_code == 200
    ready = http.get(server.base_url + "/readyz")
    assert (ready.status_code, ready.text) == (200, f"ready: database at migration {head()}\n")
    assert http.get(server.base_url + "/nothing").status_code == 404


def head() -> str:
    return migrate.head_revision()


def test_readyz_is_503_at_an_older_migration(
    engine: Engine, server: MetricsServer, http: httpx.Client
) -> None:
    migrate.downgrade(engine, "0006")
    ready = http.get(server.base_url + "/readyz")
    assert ready.status_code == 503
    assert ready.text == (f"database at migration 0006, not {head()}: run `tripcast db upgrade`\n")
    assert http.get(server.base_url + "/healthz").status_code == 200  # alive all the same
    migrate.upgrade(engine)
    assert http.get(server.base_url + "/readyz").status_code == 200


def test_readyz_names_a_migration_this_tripcast_does_not_know(
    engine: Engine, server: MetricsServer, http: httpx.Client
) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0999'")
    ready = http.get(server.base_url + "/readyz")
    assert (ready.status_code, ready.text) == (
        503,
        f"database at migration 0999, unknown to this tripcast (head is {head()}): "
        "upgrade tripcast\n",
    )


def test_readyz_is_503_when_the_database_does_not_answer(http: httpx.Client) -> None:
    dead = create_db_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
        poolclass=sa.NullPool,
        connect_args={"connect_timeout": 2},
    )
    server = MetricsServer(dead, host="127.0.0.1", port=0).start()
    try:
        ready = http.get(server.base_url + "/readyz")
        assert ready.status_code == 503
        assert ready.text.startswith("database unreachable: ")
        assert "\n" not in ready.text.rstrip("\n")
        assert http.get(server.base_url + "/metrics").status_code == 200
    finally:
        server.stop()


def test_a_port_in_use_fails_naming_the_variable(engine: Engine) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"^TRIPCAST_METRICS_PORT={port} cannot be used"):
            serve_metrics(engine, port=port, host="127.0.0.1")


def test_port_zero_serves_nothing(engine: Engine) -> None:
    assert serve_metrics(engine, port=0) is None
