"""A scratch server for the benchmarks' smoke runs, on the test suite's PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.databases import DatabaseFactory
from tripcast.bench.database import ScratchServer


@pytest.fixture(scope="module")
def scratch(database_factory: DatabaseFactory) -> Iterator[ScratchServer]:
    server = ScratchServer(
        database_factory.admin, name=f"tripcast_bench_{uuid.uuid4().hex[:8]}", external=True
    )
    server.prepare()
    yield server
    server.close()
