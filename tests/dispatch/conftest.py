"""Fixtures for dispatch tests: a frozen clock and async test support."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig, running_fake_cloud_api


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    """A settable ``now_fn``: tests move time explicitly."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture(scope="session")
def fake_api() -> Iterator[FakeCloudApi]:
    """The fake Cloud API in its own process, so that its clock and CPU are not shared
    with the dispatchers under test; each test resets it to the config it needs."""
    with running_fake_cloud_api(FakeCloudApiConfig(), in_subprocess=True) as fake:
        yield fake
