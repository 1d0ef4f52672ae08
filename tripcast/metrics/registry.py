"""The process's own metrics: counters and histograms moved where things happen.

One ``CollectorRegistry`` per process (not prometheus_client's global one, which any
library may write to). Database gauges are not here: they are read at scrape time by
``collector.DatabaseCollector``, added per endpoint by ``exposition.registry_for``.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

# The *_created series double every counter and alert rules never use them.
disable_created_metrics()

PROCESS = CollectorRegistry()
ProcessCollector(registry=PROCESS)

SENDS = Counter(
    "tripcast_sends",
    "Outbound messages by what one dispatch round made of them (sent, retry, failed, "
    "in_doubt, deferred, ...), with Meta's error code or the error family when a POST failed",
    ["outcome", "error_code"],
    registry=PROCESS,
)
# From the row's created_at (the writer's commit) to Meta's acceptance of the POST. The
# goal is 1 s at p99 on an idle queue; a backlog drains over minutes to hours.
SEND_LATENCY = Histogram(
    "tripcast_send_latency_seconds",
    "Seconds from a message's created_at to the Cloud API accepting it",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600),
    registry=PROCESS,
)
WEBHOOK_DELIVERIES = Counter(
    "tripcast_webhook_deliveries",
    "Webhook POSTs by the receiver's answer: stored, duplicate, unsigned, bad_signature, "
    "malformed, too_large, unavailable",
    ["outcome"],
    registry=PROCESS,
)
SCRAPE_ERRORS = Counter(
    "tripcast_metrics_scrape_errors",
    "Database reads for /metrics that failed or timed out (their gauges were left out)",
    ["query"],
    registry=PROCESS,
)

# The receiver's answers by HTTP status; 200 is stored or duplicate, told apart by the
# caller.
WEBHOOK_REFUSALS = {
    400: "malformed",
    401: "unsigned",
    403: "bad_signature",
    413: "too_large",
    503: "unavailable",
}


def record_webhook_delivery(outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()


def record_webhook_refusal(status: int) -> None:
    record_webhook_delivery(WEBHOOK_REFUSALS.get(status, str(status)))
