"""``tripcast webhook`` as a real process, started as the README shows: its /metrics,
/healthz and /readyz on the receiver's port, and the delivery counter moving."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.metrics.support import parse, value
from tests.support.net import free_port
from tests.webhooks import meta
from tripcast.whatsapp.webhook import sign

pytestmark = pytest.mark.integration

SECRET, TOKEN = "metrics-app-secret", "metrics-verify-token"


@pytest.fixture
def receiver_process(engine: Engine) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPCAST_")}
    env |= {
        "TRIPCAST_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "TRIPCAST_WHATSAPP_APP_SECRET": SECRET,
        "TRIPCAST_WHATSAPP_VERIFY_TOKEN": TOKEN,
    }
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tripcast.cli", "webhook", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_listening(base, process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def wait_until_listening(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    with httpx.Client(trust_env=False, timeout=2) as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, "tripcast webhook exited"
            try:
                http.get(base + "/healthz")
                return
            except httpx.TransportError:
                time.sleep(0.1)  # polling for the port to open, not waiting for an effect
    raise AssertionError("tripcast webhook did not listen within 30 s")


def test_webhook_process_serves_metrics_health_and_readiness(receiver_process: str) -> None:
    with httpx.Client(trust_env=False, timeout=10) as http:
        assert http.get(receiver_process + "/healthz").status_code == 200
        ready = http.get(receiver_process + "/readyz")
        assert (ready.status_code, ready.text.startswith("ready: ")) == (200, True)
        before = parse(http.get(receiver_process + "/metrics").text)
        assert value(before, "tripcast_webhook_backlog") == 0
        stored = value(before, "tripcast_webhook_deliveries_total", outcome="stored") or 0
        receipt = meta.status(meta.new_wamid(), "delivered", datetime.now(UTC))
        raw = meta.body(meta.payload(statuses=[receipt]))
        answer = http.post(
            receiver_process + "/webhooks/whatsapp",
            content=raw,
            headers={"X-Hub-Signature-256": sign(SECRET, raw)},
        )
        assert answer.status_code == 200
        after = parse(http.get(receiver_process + "/metrics").text)
    assert value(after, "tripcast_webhook_deliveries_total", outcome="stored") == stored + 1
    assert value(after, "tripcast_webhook_backlog") == 1
