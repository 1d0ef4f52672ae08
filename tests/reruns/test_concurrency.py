"""Two reruns at once queue each message once: the second waits, then skips the rows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from tests.reruns.support import failed_message, message
from tests.support.world import make_traveller
from tripcast.reruns import RerunReport, Selection, requeue_failed
from tripcast.reruns import sql as rerun_sql

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
SELECTION = Selection(since=NOW - timedelta(days=1))


def test_concurrent_reruns_queue_each_message_once(engine: Engine) -> None:
    with engine.begin() as connection:
        failed = failed_message(
            connection, make_traveller(connection), failed_at=NOW - timedelta(hours=1)
        )
    params = SELECTION.params(now=NOW) | {
        "now": NOW,
        "run_id": "first",
        "operator": None,
        "note": None,
        "quiet_users": [],
        "quiet_until": [],
    }
    reports: list[RerunReport] = []
    with engine.connect() as first:
        first.begin()
        first.exec_driver_sql(rerun_sql.REQUEUE, params)  # holds the row lock, uncommitted
        second = threading.Thread(
            target=lambda: reports.append(requeue_failed(engine, SELECTION, now=NOW))
        )
        second.start()
        second.join(timeout=1)
        assert second.is_alive()  # waiting for the first rerun's row lock
        first.commit()
    second.join(timeout=30)
    (report,) = reports
    assert (report.requeued, report.excluded) == (0, {"changed_concurrently": 1})
    assert [entry["run_id"] for entry in message(engine, failed)["metadata"]["reruns"]] == ["first"]
