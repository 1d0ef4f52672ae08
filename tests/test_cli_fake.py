"""``tripcast fake-whatsapp`` serves the fake Cloud API as a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest


@pytest.mark.integration
def test_fake_cloud_api_process_accepts_a_send_and_stops_on_sigterm(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPCAST_")}
    env["TRIPCAST_WHATSAPP_ACCESS_TOKEN"] = "token-under-test"
    process = subprocess.Popen(
        [sys.executable, "-m", "tripcast.cli", "fake-whatsapp", "--port", "0", "--latency-ms", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(tmp_path),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("fake Cloud API listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1]
        body = {
            "messaging_product": "whatsapp",
            "to": "351912345678",
            "type": "template",
            "template": {"name": "trip_reminder", "language": {"code": "en_US"}},
        }
        url = f"{base_url}/v23.0/100000000000001/messages"
        accepted = httpx.post(url, json=body, headers={"Authorization": "Bearer token-under-test"})
        assert accepted.status_code == 200
        assert accepted.json()["messages"][0]["id"].startswith("wamid.")
        refused = httpx.post(url, json=body, headers={"Authorization": "Bearer wrong"})
        assert refused.json()["error"]["code"] == 190
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
