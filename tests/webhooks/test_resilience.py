"""No acknowledged delivery is lost: receiver restarts, database outages, dead connections."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.databases import DatabaseFactory
from tests.webhooks import meta
from tests.webhooks.builders import rows, scalar
from tests.webhooks.conftest import post
from tripcast.models.engine import create_db_engine
from tripcast.webhooks.receiver_server import BackgroundReceiver, ReceiverConfig

pytestmark = [pytest.mark.integration, pytest.mark.slow]

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def bodies(count: int) -> list[bytes]:
    return [
        meta.body(meta.payload(statuses=[meta.status(meta.new_wamid(), "sent", T0)]))
        for _ in range(count)
    ]


def stored_digests(engine: Engine) -> set[str]:
    return {
        row["body_sha256"] for row in rows(engine, "SELECT body_sha256 FROM webhook_deliveries")
    }


class Meta:
    """Posts bodies like Meta: each until it gets a 200, retrying refusals and errors."""

    def __init__(self, url: str, items: list[bytes], *, workers: int = 4) -> None:
        self.url, self.items = url, items
        self.acknowledged: list[str] = []
        self.failures = 0
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(i, workers)) for i in range(workers)
        ]

    def start(self) -> Meta:
        for thread in self._threads:
            thread.start()
        return self

    def join(self) -> None:
        for thread in self._threads:
            thread.join(60)

    def _run(self, offset: int, step: int) -> None:
        with httpx.Client(timeout=5, trust_env=False) as http:
            for raw in self.items[offset::step]:
                self._deliver(http, raw)
                time.sleep(0.01)  # a stream, not a burst: it is still flowing at the cut

    def _deliver(self, http: httpx.Client, raw: bytes) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if post(http, self.url, raw).status_code == 200:
                    with self._lock:
                        self.acknowledged.append(hashlib.sha256(raw).hexdigest())
                    return
            except httpx.HTTPError:
                pass
            with self._lock:
                self.failures += 1
            time.sleep(0.02)


def test_restart_mid_stream_loses_no_acknowledged_delivery(
    receiver_config: ReceiverConfig, engine: Engine
) -> None:
    items = bodies(120)
    first = BackgroundReceiver(receiver_config).start()
    sender = Meta(first.url, items).start()
    deadline = time.monotonic() + 30
    while len(sender.acknowledged) < 20:
        assert time.monotonic() < deadline, "the first receiver acknowledged too little"
        time.sleep(0.005)
    first.stop()  # requests in flight finish; new ones are refused
    acknowledged_by_first = set(sender.acknowledged)
    assert stored_digests(engine) >= acknowledged_by_first
    deadline = time.monotonic() + 10
    while sender.failures == 0 and time.monotonic() < deadline:
        time.sleep(0.005)  # until Meta has seen the receiver down
    second = BackgroundReceiver(receiver_config, port=first.port).start()
    try:
        sender.join()
    finally:
        second.stop()
    assert sender.failures > 0  # the stream really was cut
    assert len(sender.acknowledged) == len(items)
    assert stored_digests(engine) == set(sender.acknowledged)


@pytest.fixture
def admin(database_factory: DatabaseFactory) -> Iterator[Engine]:
    engine = create_db_engine(
        database_factory.admin, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    yield engine
    engine.dispose()


def terminate_backends(admin: Engine, database: str) -> int:
    with admin.connect() as connection:
        return len(
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %(d)s AND pid <> pg_backend_pid()",
                {"d": database},
            ).all()
        )


def allow_connections(admin: Engine, database: str, allowed: bool) -> None:
    with admin.connect() as connection:
        connection.exec_driver_sql(
            f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}'
        )


def test_database_outage_is_answered_503_then_redelivery_is_stored(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine, admin: Engine
) -> None:
    before, during = bodies(2)
    assert post(http, receiver.url, before).status_code == 200
    database = str(engine.url.database)
    engine.dispose()
    allow_connections(admin, database, False)
    try:
        terminate_backends(admin, database)
        answer = post(http, receiver.url, during)
        assert answer.status_code == 503
        assert answer.json() == {"error": "storage unavailable, deliver again later"}
        ready = http.get(receiver.base_url + "/readyz")
        assert (ready.status_code, ready.text.split(":")[0]) == (503, "database unreachable")
        assert http.get(receiver.base_url + "/healthz").status_code == 200  # still alive
    finally:
        allow_connections(admin, database, True)
    assert post(http, receiver.url, during).status_code == 200  # Meta delivers it again
    assert stored_digests(engine) == {hashlib.sha256(b).hexdigest() for b in (before, during)}


def test_terminated_connections_are_replaced_without_a_refusal(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine, admin: Engine
) -> None:
    first, second = bodies(2)
    assert post(http, receiver.url, first).status_code == 200
    assert terminate_backends(admin, str(engine.url.database)) >= 1  # the receiver's too
    assert post(http, receiver.url, second).status_code == 200
    assert scalar(engine, "SELECT count(*) FROM webhook_deliveries") == 2
