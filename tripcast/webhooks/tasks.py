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

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from tripcast.models.engine import get_engine
from tripcast.webhooks.ingest import IngestPolicy, ingest_once, is_transient


def retry_when_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect's ``retry_condition_fn``: retry only transient database errors."""
    try:
        state.result()
    except Exception as error:
        return is_transient(error)
    return False


@task(
    name="apply-webhook-batch",
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_when_transient,
    # The flow calls this in a loop with the same arguments: a cached (or persisted and
    # reloaded) result would hand back the first batch's report and skip the inbox.
    cache_policy=NO_CACHE,
    persist_result=False,
)
def apply_webhook_batch(batch_size: int = IngestPolicy.batch_size) -> dict[str, Any]:
    """Apply one batch of stored deliveries; the report as a dict (``idle``: inbox empty)."""
    report = ingest_once(get_engine(), now=datetime.now(UTC), batch_size=batch_size)
    return report.as_dict() | {"idle": report.idle, "summary": report.summary()}
