"""A running receiver (uvicorn on a free loopback port) over each test's fresh database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from tripcast.webhooks.receiver_server import BackgroundReceiver, ReceiverConfig, running_receiver
from tripcast.whatsapp.webhook import SIGNATURE_HEADER, sign

APP_SECRET = "test-app-secret-7f3a"
VERIFY_TOKEN = "test-verify-token-91c2"


@pytest.fixture
def receiver_config(engine: Engine) -> ReceiverConfig:
    return ReceiverConfig(
        database_url=engine.url.render_as_string(hide_password=False),
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
    )


@pytest.fixture
def receiver(receiver_config: ReceiverConfig) -> Iterator[BackgroundReceiver]:
    with running_receiver(receiver_config) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    # trust_env off: a proxy from the environment must never see loopback traffic.
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


def post(
    http: httpx.Client,
    url: str,
    data: dict[str, Any] | bytes,
    *,
    secret: str | None = APP_SECRET,
    signature: str | None = None,
) -> httpx.Response:
    """POST like Meta: the raw body signed with the app secret (or a given signature)."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    headers = {"Content-Type": "application/json"}
    if signature is None and secret is not None:
        signature = sign(secret, raw)
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return http.post(url, content=raw, headers=headers)
