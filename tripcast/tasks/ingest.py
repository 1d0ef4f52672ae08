"""The Prefect task of the webhook ingest flow: one batch per task run.

One task per batch, not per status: Prefect's own overhead per task run would cap the
ingest far below its target (see DESIGN §7). A transient database error (connection
lost, deadlock, serialization failure) fails the run and Prefect retries it; a batch is
one transaction, so a retry starts from a clean slate. Any other error is not retried
by Prefect: the ingest already isolates a bad delivery and records why. Results are
neither cached nor persisted: each run is a new batch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tripcast.models.engine import get_engine
from tripcast.tasks.decorator import database_task
from tripcast.webhooks.ingest import IngestPolicy, ingest_once


# The flow calls this in a loop with the same arguments: a cached (or persisted and
# reloaded) result would hand back the first batch's report and skip the inbox.
@database_task("apply-webhook-batch")
def apply_webhook_batch(batch_size: int = IngestPolicy.batch_size) -> dict[str, Any]:
    """Apply one batch of stored deliveries; the report as a dict (``idle``: inbox empty)."""
    report = ingest_once(get_engine(), now=datetime.now(UTC), batch_size=batch_size)
    return report.as_dict() | {"idle": report.idle, "summary": report.summary()}
