"""The database gauges, read at scrape time from a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.dispatch.builders import make_traveller, queue_message
from tests.metrics.support import names, parse, value
from tests.webhooks import meta
from tests.webhooks.builders import store_delivery
from tripcast.metrics import PROCESS, registry_for, scrape
from tripcast.models.engine import create_db_engine


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


def seed_outbox(engine: Engine) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection)

        def queue(category: str | None, **columns: object) -> None:
            metadata = {"category": category} if category else None
            queue_message(connection, traveller, metadata=metadata, **columns)

        queue(None, created_at=ago(90))  # no category: utility
        queue("utility", created_at=ago(20))
        queue("promo", created_at=ago(30))  # unknown: counted as utility
        queue("marketing", created_at=ago(600))
        queue("marketing", created_at=ago(5))
        # Pending but not waiting on dispatch: in its retry backoff, or in doubt.
        queue("authentication", created_at=ago(800), next_attempt_at=ago(-60))
        queue("authentication", created_at=ago(800), send_started_at=ago(700))
        queue("authentication", status="sent", external_id="wamid.A", created_at=ago(900))
        queue("marketing", status="failed", created_at=ago(900))
        queue(None, direction="inbound", status="delivered", created_at=ago(4000))
        for index in range(3):
            receipt = meta.status(meta.new_wamid(), "sent", ago(index))
            store_delivery(connection, meta.payload(statuses=[receipt]))
        connection.exec_driver_sql(
            "UPDATE webhook_deliveries SET status = 'applied' "
            "WHERE id = (SELECT min(id::text)::uuid FROM webhook_deliveries)"
        )


def test_outbox_and_webhook_gauges_read_the_database(engine: Engine) -> None:
    seed_outbox(engine)
    samples = parse(scrape(registry_for(engine)))
    outbox = {
        (dict(labels)["status"], dict(labels)["category"]): count
        for (name, labels), count in samples.items()
        if name == "tripcast_outbox_messages"
    }
    assert outbox == {
        ("pending", "utility"): 3,
        ("pending", "marketing"): 2,
        ("pending", "authentication"): 2,
        ("sent", "authentication"): 1,
        ("failed", "marketing"): 1,
    }
    oldest = "tripcast_outbox_oldest_pending_seconds"
    assert 600 <= (value(samples, oldest, category="marketing") or 0) < 660
    assert 90 <= (value(samples, oldest, category="utility") or 0) < 150
    assert value(samples, oldest, category="authentication") == 0
    assert value(samples, oldest, category="service") == 0
    assert value(samples, "tripcast_webhook_backlog") == 2


def test_an_empty_database_reads_zero(engine: Engine) -> None:
    samples = parse(scrape(registry_for(engine)))
    assert value(samples, "tripcast_webhook_backlog") == 0
    assert value(samples, "tripcast_outbox_oldest_pending_seconds", category="utility") == 0
    assert not [name for name, _ in samples if name == "tripcast_outbox_messages"]


def errors(query: str) -> float:
    return PROCESS.get_sample_value("tripcast_metrics_scrape_errors_total", {"query": query}) or 0


def test_a_timed_out_query_leaves_its_gauge_out_and_the_rest_served(engine: Engine) -> None:
    seed_outbox(engine)
    before = errors("webhook_backlog")
    with engine.connect() as blocker, blocker.begin():
        # Holding this lock makes the backlog count wait until its statement timeout.
        blocker.exec_driver_sql("LOCK TABLE webhook_deliveries IN ACCESS EXCLUSIVE MODE")
        samples = parse(scrape(registry_for(engine, statement_timeout_ms=200)))
    assert "tripcast_webhook_backlog" not in names(samples)
    assert value(samples, "tripcast_outbox_messages", status="pending", category="utility") == 3
    assert errors("webhook_backlog") == before + 1
    assert value(samples, "tripcast_metrics_scrape_errors_total", query="webhook_backlog") == (
        before + 1
    )


def test_an_unreachable_database_still_serves_the_process_metrics() -> None:
    dead = create_db_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
        poolclass=sa.NullPool,
        connect_args={"connect_timeout": 2},
    )
    before = {query: errors(query) for query in ("outbox_messages", "webhook_backlog")}
    samples = parse(scrape(registry_for(dead)))
    assert not names(samples) & {"tripcast_outbox_messages", "tripcast_webhook_backlog"}
    assert "process_start_time_seconds" in names(samples)
    assert {query: errors(query) for query in before} == {q: n + 1 for q, n in before.items()}
