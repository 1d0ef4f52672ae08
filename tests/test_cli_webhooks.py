"""``tripcast webhook``, ``tripcast ingest`` and ``tripcast watch`` as real processes."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.support.net import free_port
from tests.webhooks.builders import make_outbound, make_traveller, store_delivery
from tests.webhooks.meta import body, payload, text_message
from tripcast.whatsapp.webhook import sign

SECRET, TOKEN = "cli-app-secret", "cli-verify-token"


def environment(engine: Engine, home: Path) -> dict[str, str]:
    import prefect.settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPCAST_")}
    env.update(
        {
            "TRIPCAST_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "TRIPCAST_WHATSAPP_APP_SECRET": SECRET,
            "TRIPCAST_WHATSAPP_VERIFY_TOKEN": TOKEN,
            "PREFECT_API_URL": str(prefect.settings.PREFECT_API_URL.value()),
            "PREFECT_HOME": str(home / "prefect"),
        }
    )
    return env


def tripcast(*args: str, env: dict[str, str], **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tripcast.cli", *args], env=env, text=True, **popen
    )  # type: ignore[call-overload]


def wait_for_line(stream: IO[str], expected: str, *, timeout: float) -> None:
    """Read ``stream`` up to the line ``expected``; fail after ``timeout`` seconds."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
            if line.strip() == expected:
                return
        lines.put("")  # end of stream

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while (line := lines.get(timeout=max(0.0, deadline - time.monotonic()))) != "":
        if line.strip() == expected:
            return
        seen.append(line)
    raise AssertionError(f"no {expected!r} before the stream ended: {seen}")


@pytest.mark.integration
@pytest.mark.usefixtures("prefect_harness")
def test_receiver_process_stores_signed_deliveries(engine: Engine, tmp_path: Path) -> None:
    port = free_port()
    process = tripcast(
        "webhook",
        "--port",
        str(port),
        env=environment(engine, tmp_path),
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
    try:
        with httpx.Client(trust_env=False, timeout=5) as http:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if http.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            hello = {"hub.mode": "subscribe", "hub.verify_token": TOKEN, "hub.challenge": "42"}
            assert http.get(url, params=hello).text == "42"
            assert http.get(url, params={**hello, "hub.verify_token": "no"}).status_code == 403
            raw = body(payload(messages=[text_message("351912345678", "hi", datetime.now(UTC))]))
            headers = {"X-Hub-Signature-256": sign(SECRET, raw)}
            assert http.post(url, content=raw, headers=headers).status_code == 200
            assert http.post(url, content=raw + b" ", headers=headers).status_code == 403
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM webhook_deliveries").scalar() == 1


@pytest.mark.usefixtures("prefect_harness")
def test_ingest_command_applies_stored_stop(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        store_delivery(
            connection, payload(messages=[text_message(traveller.phone, "STOP", datetime.now(UTC))])
        )
    done = tripcast(
        "ingest", env=environment(engine, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = done.communicate(timeout=180)
    assert done.returncode == 0, err
    assert "opted_out 1" in out
    with engine.connect() as connection:
        assert (
            connection.exec_driver_sql(
                "SELECT opt_in_status FROM whatsapp_accounts WHERE id = %(a)s",
                {"a": traveller.account},
            ).scalar()
            == "opted_out"
        )


def test_watch_prints_a_users_message_updates(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        other = make_traveller(connection)
        mine = make_outbound(connection, traveller, status="sent", wamid="wamid.mine")
        theirs = make_outbound(connection, other, status="sent", wamid="wamid.theirs")
    watcher = tripcast(
        "watch",
        "--user",
        str(traveller.user),
        "--max-events",
        "1",
        "--timeout",
        "30",
        env=environment(engine, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert watcher.stderr is not None
    wait_for_line(watcher.stderr, "listening on tripcast_whatsapp_messages", timeout=60)
    with engine.begin() as connection:
        for message in (theirs, mine):
            connection.exec_driver_sql(
                "UPDATE whatsapp_messages SET status = 'delivered' WHERE id = %(m)s", {"m": message}
            )
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    assert "delivered" in lines[0]
    assert "outbound" in lines[0]
