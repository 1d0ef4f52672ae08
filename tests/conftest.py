"""Shared fixtures: a real PostgreSQL per session and a fresh migrated database per test."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.support.databases import DatabaseFactory, admin_url


@pytest.fixture(scope="session")
def pg_home() -> Iterator[Path]:
    # Short path: PostgreSQL's unix socket path is limited to ~100 bytes.
    with tempfile.TemporaryDirectory(prefix="tc-") as home:
        yield Path(home)


@pytest.fixture(scope="session")
def database_factory(pg_home: Path) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(admin_url(pg_home))
    yield factory
    factory.close()
    from tripcast.models.embedded import stop_embedded_servers

    stop_embedded_servers()


@pytest.fixture(scope="session")
def template_database(database_factory: DatabaseFactory) -> Iterator[str]:
    name = database_factory.migrated_template()
    yield name
    database_factory.drop(name)


@pytest.fixture
def engine(database_factory: DatabaseFactory, template_database: str) -> Iterator[Engine]:
    """A fresh database at migration head, dropped after the test."""
    with database_factory.clone(template_database) as fresh:
        yield fresh


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect server and database for flow tests (started once: ~10 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Point tripcast's own settings and engine (as flows and commands use them) at the
    test database."""
    from tripcast.models.engine import get_engine
    from tripcast.settings import get_settings

    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("TRIPCAST_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield engine
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def fake_whatsapp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The local fake Cloud API (no latency, Meta's limits on) with tripcast's WhatsApp
    settings pointed at it."""
    from tripcast.settings import get_settings
    from tripcast.whatsapp.fake import FakeCloudApiConfig, running_fake_cloud_api

    with running_fake_cloud_api(FakeCloudApiConfig(latency_seconds=0)) as fake:
        monkeypatch.setenv("TRIPCAST_WHATSAPP_API_URL", fake.base_url)
        monkeypatch.setenv("TRIPCAST_WHATSAPP_PHONE_NUMBER_ID", fake.phone_number_id)
        monkeypatch.setenv("TRIPCAST_WHATSAPP_ACCESS_TOKEN", fake.access_token)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()
