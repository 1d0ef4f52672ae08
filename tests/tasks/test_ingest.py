"""The Prefect task of the ingest flow: one batch per run, retried on transient errors only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from prefect.states import Failed
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import make_traveller, store_delivery
from tripcast.tasks import ingest as tasks
from tripcast.tasks.decorator import retry_on_transient

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_the_task_applies_one_batch(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "get_engine", lambda: engine)
    with engine.begin() as connection:
        ana = make_traveller(connection)
        for text in ("one", "two"):
            store_delivery(
                connection, meta.payload(messages=[meta.text_message(ana.phone, text, T0)])
            )
    first = tasks.apply_webhook_batch.fn(batch_size=1)
    assert (first["deliveries"], first["inbound_stored"], first["idle"]) == (1, 1, False)
    assert tasks.apply_webhook_batch.fn(batch_size=1)["deliveries"] == 1
    assert tasks.apply_webhook_batch.fn(batch_size=1)["idle"] is True


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")), True),
        (sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key")), False),
        (ValueError("a bug"), False),
    ],
    ids=["connection-lost", "integrity", "bug"],
)
def test_prefect_retries_only_transient_database_errors(error: Exception, retried: bool) -> None:
    task = tasks.apply_webhook_batch
    assert task.retries == 3
    assert task.retry_condition_fn is retry_on_transient
    assert retry_on_transient(task, None, Failed(data=error)) is retried
