"""Fixtures for the WhatsApp client and the fake Cloud API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.whatsapp.receiver import WebhookReceiver, running_receiver
from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig, running_fake_cloud_api


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def quick_config(**changes: object) -> FakeCloudApiConfig:
    """The fake without waiting: no latency, short hangs, fast webhook flushes."""
    base: dict[str, object] = {
        "latency_seconds": 0.0,
        "hang_seconds": 2.0,
        "webhook_flush_seconds": 0.01,
        "webhook_retry_seconds": 0.05,
    }
    return FakeCloudApiConfig.model_validate(base | changes)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeCloudApi]:
    with running_fake_cloud_api(quick_config()) as fake:
        yield fake


@pytest.fixture
def fake(fake_server: FakeCloudApi) -> FakeCloudApi:
    """The module's fake, reset to ``quick_config()`` for each test."""
    fake_server.reset(quick_config())
    return fake_server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver() as started:
        yield started
