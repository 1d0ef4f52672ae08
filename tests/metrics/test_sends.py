"""``tripcast_sends_total`` and ``tripcast_send_latency_seconds`` move where dispatch
writes its outcomes, once per written row."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.engine import Engine

from tests.dispatch.builders import make_traveller, queue_message
from tests.dispatch.conftest import NOW
from tripcast.dispatch import store
from tripcast.dispatch.outcomes import AttemptLog, Outcome
from tripcast.metrics import PROCESS

CREATED = NOW - timedelta(seconds=2.5)


def sample(name: str, **labels: str) -> float:
    return PROCESS.get_sample_value(name, labels) or 0.0


def readings() -> dict[str, float]:
    return {
        "sent": sample("tripcast_sends_total", outcome="sent", error_code=""),
        "failed": sample("tripcast_sends_total", outcome="failed", error_code="131026"),
        "retry": sample("tripcast_sends_total", outcome="retry", error_code="server"),
        "latency_count": sample("tripcast_send_latency_seconds_count"),
        "latency_sum": sample("tripcast_send_latency_seconds_sum"),
        "within_5s": sample("tripcast_send_latency_seconds_bucket", le="5.0"),
    }


def claimed_batch(engine: Engine) -> tuple[uuid.UUID, list[uuid.UUID]]:
    with engine.begin() as connection:
        who = make_traveller(connection)
        ids = [queue_message(connection, who, created_at=CREATED) for _ in range(3)]
        store.claim_batch(connection, now=NOW, owner="a", lease=timedelta(minutes=5), limit=10)
    return who.user_id, ids


def attempt(user: uuid.UUID, message: uuid.UUID, code: int | None, family: str) -> AttemptLog:
    response = {"error": {"code": code}, "family": family}
    return AttemptLog(user, message, "351912000001", "failed", response, "boom", 1, code, NOW)


def test_written_outcomes_are_counted_once_with_their_latency(engine: Engine) -> None:
    user, (sent, failed, retried) = claimed_batch(engine)
    outcomes = [
        Outcome(sent, "sent", "sent", 0, external_id="wamid.S", sent_at=NOW),
        Outcome(failed, "failed", "failed", 0, failed_at=NOW, error_code=131026),
        Outcome(retried, "retry", "pending", 1, next_attempt_at=NOW, keep_started=False),
    ]
    logs = [attempt(user, failed, 131026, "permanent"), attempt(user, retried, None, "server")]
    before = readings()
    for _ in range(2):  # the second write finds no lease left: nothing is counted again
        with engine.begin() as connection:
            store.write_outcomes(connection, outcomes, logs, owner="a")
    after = readings()
    moved = {key: round(after[key] - before[key], 6) for key in before}
    assert moved == {
        "sent": 1,
        "failed": 1,
        "retry": 1,
        "latency_count": 1,
        "latency_sum": 2.5,
        "within_5s": 1,
    }
