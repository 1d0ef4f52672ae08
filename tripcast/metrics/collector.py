"""Database gauges, read when Prometheus scrapes: one cheap statement each.

Each statement runs in its own short transaction under a statement timeout, so a slow
or unreachable database costs a scrape at most a few seconds; a statement that fails
leaves its gauges out of that scrape (absent, not a false zero) and counts in
``tripcast_metrics_scrape_errors_total{query=...}``, and the rest of /metrics is served.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from tripcast.metrics.registry import SCRAPE_ERRORS

log = logging.getLogger(__name__)

CATEGORIES = ("authentication", "utility", "service", "marketing")
STATEMENT_TIMEOUT_MS = 2000

# A missing or unrecognised category counts as utility (the product's default), which
# also keeps the label to four values whatever an application writes into metadata.
_CATEGORY = (
    "CASE WHEN metadata->>'category' IN ("
    + ", ".join(f"'{category}'" for category in CATEGORIES)
    + ") THEN metadata->>'category' ELSE 'utility' END"
)

OUTBOX_MESSAGES = f"""
SELECT status, {_CATEGORY} AS category, count(*)::float8
FROM public.whatsapp_messages
WHERE direction = 'outbound'
GROUP BY 1, 2
"""

# The rows waiting to be sent, as the dispatch claim sees them: due (a retry in its
# backoff, or a message deferred to later, is not late yet) and not in flight (a send in
# doubt waits for its receipt, not for dispatch). Few rows, under the dispatch's partial
# index.
OLDEST_PENDING = f"""
SELECT {_CATEGORY} AS category, extract(epoch FROM now() - min(created_at))::float8
FROM public.whatsapp_messages
WHERE status = 'pending' AND direction = 'outbound' AND send_started_at IS NULL
  AND (next_attempt_at IS NULL OR next_attempt_at <= now())
GROUP BY 1
"""

WEBHOOK_BACKLOG = """
SELECT count(*)::float8 FROM public.webhook_deliveries WHERE status = 'received'
"""

# A few rows: one per business number.
SENDERS = """
SELECT phone_number_id, status, quality_rating FROM public.whatsapp_senders
"""

Rows = Sequence[Any]


class DatabaseCollector(Collector):
    """The outbox and webhook gauges of DESIGN section 9, from ``engine`` at scrape time."""

    def __init__(self, engine: Engine, *, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS):
        self.engine = engine
        self.statement_timeout_ms = statement_timeout_ms

    def collect(self) -> Iterator[Metric]:
        readings: Sequence[tuple[str, str, Callable[[Rows], Metric]]] = (
            ("outbox_messages", OUTBOX_MESSAGES, _outbox_messages),
            ("oldest_pending", OLDEST_PENDING, _oldest_pending),
            ("webhook_backlog", WEBHOOK_BACKLOG, _webhook_backlog),
            ("sender_paused", SENDERS, _sender_paused),
            ("sender_quality", SENDERS, _sender_quality),
        )
        try:
            connection = self.engine.connect()
        except SQLAlchemyError as error:
            for name, _, _ in readings:
                _failed(name, error)
            return
        with connection:
            for name, statement, build in readings:
                rows = self._read(connection, name, statement)
                if rows is not None:
                    yield build(rows)

    def _read(self, connection: Connection, name: str, statement: str) -> Rows | None:
        try:
            with connection.begin():
                connection.exec_driver_sql(
                    f"SET LOCAL statement_timeout = {int(self.statement_timeout_ms)}"
                )
                return connection.exec_driver_sql(statement).all()
        except SQLAlchemyError as error:
            _failed(name, error)
            return None


def _failed(name: str, error: BaseException) -> None:
    SCRAPE_ERRORS.labels(query=name).inc()
    first = str(getattr(error, "orig", None) or error).strip().splitlines()
    log.warning("metrics: %s not read: %s", name, first[0] if first else type(error).__name__)


def _outbox_messages(rows: Rows) -> Metric:
    gauge = GaugeMetricFamily(
        "tripcast_outbox_messages",
        "Outbound messages by status and category (metadata->>'category', else utility)",
        labels=["status", "category"],
    )
    for status, category, count in rows:
        gauge.add_metric([status, category], count)
    return gauge


def _oldest_pending(rows: Rows) -> Metric:
    gauge = GaugeMetricFamily(
        "tripcast_outbox_oldest_pending_seconds",
        "Seconds since the oldest outbound message due and not yet sent was created, per "
        "category (0: none waiting)",
        labels=["category"],
    )
    # Every category is reported, 0 when nothing waits, so an alert sees it recover.
    ages = {category: 0.0 for category in CATEGORIES} | {row[0]: row[1] for row in rows}
    for category, age in ages.items():
        gauge.add_metric([category], max(0.0, age))
    return gauge


def _webhook_backlog(rows: Rows) -> Metric:
    return GaugeMetricFamily(
        "tripcast_webhook_backlog",
        "Webhook deliveries stored and not applied yet",
        value=rows[0][0],
    )


def _sender_paused(rows: Rows) -> Metric:
    gauge = GaugeMetricFamily(
        "tripcast_sender_paused",
        "1 when a business number holds messages (paused, restricted or disabled), else 0",
        labels=["phone_number_id"],
    )
    for number, status, _ in rows:
        gauge.add_metric([number], 0.0 if status == "active" else 1.0)
    return gauge


def _sender_quality(rows: Rows) -> Metric:
    gauge = GaugeMetricFamily(
        "tripcast_sender_quality",
        "Meta's quality rating of each business number (1 on its current rating)",
        labels=["phone_number_id", "rating"],
    )
    for number, _, rating in rows:
        gauge.add_metric([number, rating], 1.0)
    return gauge
