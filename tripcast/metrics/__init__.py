"""Prometheus metrics, liveness and readiness (DESIGN section 9): plain Python, no Prefect.

``serve_metrics(engine, port=...)`` serves ``/metrics``, ``/healthz`` and ``/readyz`` from
a background thread; ``health_routes(engine)`` gives the same to a Starlette app.
"""

from tripcast.metrics.exposition import MetricsServer, registry_for, scrape, serve_metrics
from tripcast.metrics.health import Readiness, check_ready
from tripcast.metrics.registry import PROCESS, record_webhook_delivery, record_webhook_refusal
from tripcast.metrics.sends import record_sends

__all__ = [
    "PROCESS",
    "MetricsServer",
    "Readiness",
    "check_ready",
    "record_sends",
    "record_webhook_delivery",
    "record_webhook_refusal",
    "registry_for",
    "scrape",
    "serve_metrics",
]
