"""``tripcast dispatch --follow`` as an operator runs it: a process, the fake, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from tests.dispatch.builders import make_traveller, queue_message
from tests.dispatch.fleet import REPOSITORY
from tests.dispatch.live import config, rows
from tests.support.net import free_port, wait_until
from tripcast.dispatch import utc_now
from tripcast.whatsapp.fake import FakeCloudApi

pytestmark = pytest.mark.integration


class Follower:
    def __init__(
        self, process: subprocess.Popen[bytes], log_path: Path, *, metrics_port: int
    ) -> None:
        self.process = process
        self.log_path = log_path
        self.metrics_port = metrics_port

    def log(self) -> str:
        return self.log_path.read_text()

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def environment(engine: Engine, fake_api: FakeCloudApi, tmp_path: Path) -> dict[str, str]:
    options = fake_api.client_options()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPCAST_")}
    env |= {
        "TRIPCAST_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "TRIPCAST_WHATSAPP_API_URL": options["base_url"],
        "TRIPCAST_WHATSAPP_API_VERSION": options["api_version"],
        "TRIPCAST_WHATSAPP_PHONE_NUMBER_ID": options["phone_number_id"],
        "TRIPCAST_WHATSAPP_ACCESS_TOKEN": options["access_token"],
        "TRIPCAST_HOME": str(tmp_path / "home"),
        "TRIPCAST_SEND_RATE": "10",
        "TRIPCAST_METRICS_PORT": str(free_port()),
    }
    return env


def start(command: list[str], env: dict[str, str], log_path: Path) -> Follower:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tripcast.cli", *command],
            env=env,
            cwd=REPOSITORY,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Follower(process, log_path, metrics_port=int(env["TRIPCAST_METRICS_PORT"]))


@pytest.fixture
def follower(engine: Engine, fake_api: FakeCloudApi, tmp_path: Path) -> Iterator[Follower]:
    """The follower process, started the way the README says."""
    env = environment(engine, fake_api, tmp_path)
    handle = start(["dispatch", "--follow"], env, tmp_path / "follower.log")
    process = handle.process
    try:
        wait_until(
            lambda: "listening" in handle.log() or process.poll() is not None,
            timeout=60,
            what="the follower did not start listening",
        )
        assert process.poll() is None, handle.log()
        yield handle
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def sends_counted(follower: Follower, outcome: str) -> float:
    """``tripcast_sends_total`` of ``outcome``, as the follower's /metrics tells it."""
    text = httpx.get(f"http://127.0.0.1:{follower.metrics_port}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "tripcast_sends_total" and sample.labels.get("outcome") == outcome
    )


def test_a_committed_message_is_sent_within_seconds_once_and_sigterm_exits_clean(
    engine: Engine, fake_api: FakeCloudApi, follower: Follower
) -> None:
    fake_api.reset(config(latency_seconds=0.1, enforce_service_window=False))
    latencies = []
    for body in ("Gate changed to B12", "Boarding now"):
        with engine.begin() as connection:
            traveller = make_traveller(connection, last_inbound_at=utc_now())
        with engine.begin() as connection:  # as the application writes it: seed columns
            message_id = queue_message(connection, traveller, content=body)
        latencies.append(
            wait_until(
                lambda m=message_id: fake_api.accepted_count(str(m)) >= 1,  # type: ignore[misc]
                timeout=15,
                what=f"the fake did not accept {body!r}",
                detail=follower.log,
            )
        )
    # The goal is 1 s at p99 on an idle machine; a loaded test machine gets slack, but a
    # follower that waited for its 5 s poll instead of the notification would not pass.
    assert max(latencies) < 3.0, latencies
    # Operators see the same sends on the follower's own /metrics, and it is ready.
    wait_until(lambda: sends_counted(follower, "sent") == 2, timeout=15, what="2 sends counted")
    base = f"http://127.0.0.1:{follower.metrics_port}"
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    assert follower.terminate() == 0, follower.log()
    accepted = [item["callback_data"] for item in fake_api.accepted()]
    assert len(accepted) == len(set(accepted)) == 2
    assert "batch: 1 claimed" in follower.log()


def test_sigterm_mid_batch_finishes_in_flight_sends_and_releases_claims(
    engine: Engine, fake_api: FakeCloudApi, follower: Follower
) -> None:
    # 10 sends a second: a 2 s batch of 20 is in flight when the signal comes.
    fake_api.reset(config(latency_seconds=0.1, enforce_service_window=False))
    with engine.begin() as connection:
        travellers = [make_traveller(connection, last_inbound_at=utc_now()) for _ in range(40)]
        ids = [queue_message(connection, traveller) for traveller in travellers]
    wait_until(
        lambda: fake_api.accepted_count() >= 3,
        timeout=15,
        what="too few accepted",
        detail=follower.log,
    )
    assert follower.terminate() == 0, follower.log()

    leftover = rows(
        engine,
        "SELECT id, status, send_started_at, lease_owner FROM whatsapp_messages "
        "WHERE id = ANY(%(ids)s)",
        ids=ids,
    )
    accepted = [item["callback_data"] for item in fake_api.accepted()]
    assert len(accepted) == len(set(accepted))
    assert [row for row in leftover if row["lease_owner"] is not None] == []
    # Every send that went out was recorded; the rest are back in the queue, not in doubt.
    assert {str(row["id"]) for row in leftover if row["status"] == "sent"} == set(accepted)
    waiting = [row for row in leftover if row["status"] == "pending"]
    assert waiting, "the follower should have stopped before sending everything"
    assert all(row["send_started_at"] is None for row in waiting)


@pytest.mark.usefixtures("prefect_harness")
def test_tripcast_serve_runs_the_follower_too(
    engine: Engine, fake_api: FakeCloudApi, tmp_path: Path
) -> None:
    import prefect.settings

    fake_api.reset(config(latency_seconds=0.1, enforce_service_window=False))
    env = environment(engine, fake_api, tmp_path)
    env["PREFECT_API_URL"] = str(prefect.settings.PREFECT_API_URL.value())
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    served = start(["serve"], env, tmp_path / "serve.log")
    try:
        wait_until(
            lambda: "listening" in served.log() or served.process.poll() is not None,
            timeout=120,
            what="tripcast serve did not start its follower",
            detail=served.log,
        )
        with engine.begin() as connection:
            traveller = make_traveller(connection, last_inbound_at=utc_now())
        with engine.begin() as connection:
            message_id = queue_message(connection, traveller, content="Gate B12")
        took = wait_until(
            lambda: fake_api.accepted_count(str(message_id)) >= 1,
            timeout=15,
            what="serve's follower did not send the message",
            detail=served.log,
        )
        assert took < 3.0
    finally:
        served.process.send_signal(signal.SIGINT)
        try:
            served.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait()
    assert fake_api.accepted_count(str(message_id)) == 1
    assert "stopped" in served.log(), served.log()


def test_tripcast_dispatch_without_follow_drains_once_and_exits(
    engine: Engine, fake_api: FakeCloudApi, tmp_path: Path
) -> None:
    fake_api.reset(config(latency_seconds=0.0, enforce_service_window=False))
    with engine.begin() as connection:
        traveller = make_traveller(connection, last_inbound_at=utc_now())
        message_id = queue_message(connection, traveller)
    done = subprocess.run(
        [sys.executable, "-m", "tripcast.cli", "dispatch"],
        env=environment(engine, fake_api, tmp_path),
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 claimed in 1 batches, 1 sends: 1 sent" in done.stdout
    assert fake_api.accepted_count(str(message_id)) == 1
