"""The production topology with real processes: ``tripcast stack up`` starts a Prefect
server on PostgreSQL and two ``prefect worker start --pool tripcast`` processes, and
``tripcast deploy`` applies prefect.yaml; the fake Cloud API runs in its own process.

Nothing here triggers a flow run: the minute sweep runs because its schedule fires.
One worker is killed with SIGKILL (with its flow-run process) while the sweep
dispatches a backlog; the server must crash that run from its missing heartbeats,
free the deployment's concurrency slot, and let the next sweeps send the rest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import make_traveller, queue_message
from tests.support.databases import DatabaseFactory
from tests.support.net import free_port
from tests.support.world import make_rule, make_trip
from tests.topology.support import flow_run, flow_runs, kill_groups, wait_for, worker_of
from tripcast.bench.dispatch_measure import seed
from tripcast.topology.prefect_database import asyncpg_url, has_trigram_extension
from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig, running_fake_cloud_api

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(420)]

REPOSITORY = Path(__file__).resolve().parents[2]
BACKLOG = 2_000
TOTAL = BACKLOG + 6  # with the automation's message and five queued directly
DISPATCH_LEASE = timedelta(minutes=5)  # DispatchSettings.lease
# Prefect settings that make a small topology react in seconds instead of tens of them.
FAST_PREFECT = {
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_WORKER_QUERY_SECONDS": "2",
    "PREFECT_WORKER_PREFETCH_SECONDS": "5",
    "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
    "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
}


@pytest.fixture
def prefect_database(engine: Engine, database_factory: DatabaseFactory) -> Iterator[str]:
    if not has_trigram_extension(engine):
        pytest.skip(
            "the test PostgreSQL has no pg_trgm, which Prefect's server needs (the embedded "
            "one lacks it): run with TRIPCAST_TEST_DATABASE_URL (make test-external)"
        )
    name = f"prefect_{uuid.uuid4().hex[:10]}"
    database_factory.create(name)
    yield asyncpg_url(engine, name)
    database_factory.drop(name)


@pytest.fixture
def fake() -> Iterator[FakeCloudApi]:
    # The fake saw no inbound message from these travellers; the 24-hour window has tests
    # of its own.
    config = FakeCloudApiConfig(enforce_service_window=False)
    with running_fake_cloud_api(config, in_subprocess=True) as api:
        yield api


class Stack:
    def __init__(self, home: Path, env: dict[str, str], api: str) -> None:
        self.home, self.env, self.api = home, env, api

    def tripcast(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tripcast.cli", *args],
            env=self.env,
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def pids(self, prefix: str) -> dict[str, int]:
        return {
            path.stem: int(path.read_text())
            for path in (self.home / "stack").glob(f"{prefix}*.pid")
        }

    def log(self, name: str) -> str:
        return (self.home / "stack" / f"{name}.log").read_text(errors="replace")


@pytest.fixture
def stack(
    engine: Engine, prefect_database: str, fake: FakeCloudApi, tmp_path: Path
) -> Iterator[Stack]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIPCAST_", "PREFECT_"))}
    env.update(FAST_PREFECT)
    env.update(
        TRIPCAST_HOME=str(tmp_path / "home"),
        TRIPCAST_DATABASE_URL=engine.url.render_as_string(hide_password=False),
        TRIPCAST_WHATSAPP_API_URL=fake.base_url,
        TRIPCAST_WHATSAPP_PHONE_NUMBER_ID=fake.phone_number_id,
        TRIPCAST_WHATSAPP_ACCESS_TOKEN=fake.access_token,
        PREFECT_API_DATABASE_CONNECTION_URL=prefect_database,
    )
    port = free_port()
    running = Stack(tmp_path / "home", env, f"http://127.0.0.1:{port}/api")
    # The sweeps, not the always-on dispatcher, send here: that is what is under test.
    up = running.tripcast(
        "stack",
        "up",
        "--workers",
        "2",
        "--port",
        str(port),
        "--without",
        "webhook",
        "--without",
        "dispatcher",
    )
    try:
        assert up.returncode == 0, up.stderr + up.stdout
        assert f"Prefect UI: http://127.0.0.1:{port}" in up.stdout
        yield running
    finally:
        down = running.tripcast("stack", "down", "--grace", "10", timeout=120)
        assert down.returncode == 0, down.stderr
        assert "prefect-server" in down.stdout or up.returncode != 0


def seed_application_rows(engine: Engine, now: datetime) -> dict[str, Any]:
    """What the application writes: a due trip_start automation, a few messages (seed
    columns only) and a 2,000-message backlog, one traveller each."""
    due = now - timedelta(minutes=2)
    with engine.begin() as connection:
        traveller = make_traveller(connection, last_inbound_at=now)
        make_trip(connection, user_id=traveller.user_id, start=due.date())
        make_rule(
            connection,
            user_id=traveller.user_id,
            trigger_type="trip_start",
            trigger_config={"days_before": 0, "send_at": f"{due:%H:%M}"},
        )
        direct = [
            make_traveller(connection, last_inbound_at=now, phone=f"35193{index:07d}")
            for index in range(5)
        ]
        for other in direct:
            queue_message(connection, other)
    seed(engine, BACKLOG, offset=0)
    return {"automation": traveller.phone, "direct": [other.phone for other in direct]}


def outbox(engine: Engine, now: datetime) -> dict[str, int]:
    with engine.connect() as connection:
        row = (
            connection.exec_driver_sql(
                """SELECT count(*) FILTER (WHERE status = 'sent') AS sent,
                      count(*) FILTER (WHERE status = 'pending' AND send_started_at IS NOT NULL)
                        AS in_doubt,
                      count(*) FILTER (WHERE status = 'pending' AND send_started_at IS NULL
                                       AND lease_expires_at > %(now)s) AS leased,
                      count(*) FILTER (WHERE status = 'pending' AND send_started_at IS NULL
                                       AND (lease_expires_at IS NULL
                                            OR lease_expires_at <= %(now)s)) AS queued,
                      count(*) FILTER (WHERE status = 'failed') AS failed,
                      max(lease_expires_at) AS last_lease
               FROM whatsapp_messages WHERE direction = 'outbound'""",
                {"now": now},
            )
            .mappings()
            .one()
        )
    return dict(row)


def kill_the_running_sweep(stack: Stack) -> tuple[dict[str, Any], str]:
    """SIGKILL the worker running the minute sweep, with its flow-run process."""
    running = wait_for(
        lambda: flow_runs(stack.api, "minute-sweep", states=["RUNNING"]),
        timeout=10,
        what="a running minute sweep",
    )[0]
    run_pid = int(str(running["infrastructure_pid"]).rsplit(":", 1)[-1])
    workers = stack.pids("worker-")
    victim = worker_of(run_pid, workers)
    kill_groups(run_pid, workers[victim])
    return running, victim


def wait_for_recovery(stack: Stack, engine: Engine, killed: dict[str, Any]) -> None:
    # Its heartbeats stop; the server marks it Crashed, which frees the slot.
    wait_for(
        lambda: flow_run(stack.api, killed["id"])["state"]["type"] == "CRASHED",
        timeout=150,
        what="the killed sweep marked Crashed",
    )
    # A later sweep, on the surviving worker, sends everything no lease holds back.
    wait_for(
        lambda: (
            outbox(engine, datetime.now(UTC))["queued"] == 0
            and [
                r
                for r in flow_runs(stack.api, "minute-sweep", states=["COMPLETED"])
                if r["expected_start_time"] > killed["expected_start_time"]
            ]
        ),
        timeout=120,
        what="a sweep after the crash completing with nothing left queued",
    )


def assert_sent_at_most_once(
    after: dict[str, Any], fake: FakeCloudApi, killed_at: datetime
) -> None:
    # Nothing accepted twice, every acceptance recorded as sent or in doubt.
    assert fake.duplicates() == {}
    accepted = fake.accepted_count()
    assert after["sent"] <= accepted <= after["sent"] + after["in_doubt"], (accepted, after)
    assert after["failed"] == 0, after
    assert after["sent"] + after["in_doubt"] + after["leased"] + after["queued"] == TOTAL
    # Nothing stuck forever: rows the dead run had claimed go back to the queue when its
    # lease ends (sends it had started are reconciled from receipts, or failed as
    # "outcome unknown" after the in-doubt grace).
    assert after["last_lease"] is None or after["last_lease"] <= killed_at + DISPATCH_LEASE


def test_topology_sends_once_and_survives_a_killed_worker(
    stack: Stack, engine: Engine, fake: FakeCloudApi
) -> None:
    seeded = seed_application_rows(engine, datetime.now(UTC))
    # The schedule fires by itself; a worker's sweep dispatches the backlog. Kill that
    # worker and its flow-run process some 200 sends (3 s) into the dispatch, once the
    # application's own five messages (claimed first: the oldest) have gone out.
    wait_for(
        lambda: (
            fake.accepted_count() >= 200
            and all(fake.accepted_count(recipient=phone) for phone in seeded["direct"])
        ),
        timeout=150,
        what="the sweep sending",
    )
    killed, victim = kill_the_running_sweep(stack)
    killed_at = datetime.now(UTC)
    wait_for_recovery(stack, engine, killed)
    after = outbox(engine, datetime.now(UTC))
    print(f"outbox after the recovery sweep: {after}")  # shown with -s: what the lease holds
    assert_sent_at_most_once(after, fake, killed_at)
    # The automation's message and the application's messages were sent exactly once
    # (the automation's is written by the sweep, so it is the newest row: the dead run,
    # three batches of 2 s of sends claimed, never held it).
    for phone in [seeded["automation"], *seeded["direct"]]:
        assert fake.accepted_count(recipient=phone) == 1, phone
    # Runs are named after the minute they were scheduled for.
    for run in flow_runs(stack.api, "minute-sweep", states=["COMPLETED", "CRASHED"]):
        scheduled = datetime.fromisoformat(run["expected_start_time"])
        assert run["name"] == f"minute-sweep {scheduled:%Y-%m-%d %H:%M}Z"
    # Both workers took runs: the victim ran the killed sweep, the survivor the later ones.
    survivor = next(name for name in stack.pids("worker-") if name != victim)
    assert "Finished in state Completed" in stack.log(survivor)
    server_log = stack.log("prefect-server")
    assert "Traceback" not in server_log, server_log[-3000:]
