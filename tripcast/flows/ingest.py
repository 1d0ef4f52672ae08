"""The webhook ingest flow: apply every stored delivery, batch after batch."""

from __future__ import annotations

from collections import Counter
from typing import Any

from prefect import flow

from tripcast.flows.timing import run_name
from tripcast.tasks.automations import publish_summary
from tripcast.tasks.ingest import apply_webhook_batch

COUNTED = (
    "deliveries",
    "rejected",
    "items_rejected",
    "review_items",
    "failed",
    "receipts_matched",
    "receipts_unmatched",
    "receipts_given_up",
    "delivery_logs",
    "inbound_stored",
    "unknown_senders",
    "opted_out",
    "opted_in",
    "cancelled_messages",
    "cancelled_jobs",
    "template_updates",
    "identities_learned",
    "unknown_senders_linked",
    "marketing_stopped",
    "marketing_resumed",
)


@flow(name="webhook-ingest", flow_run_name=run_name("webhook-ingest"))
def webhook_ingest(batch_size: int = 100, max_batches: int = 1000) -> dict[str, int]:
    """Drain the webhook inbox: statuses, inbound replies, STOP / START."""
    totals: Counter[str] = Counter()
    for _ in range(max_batches):
        report = apply_webhook_batch(batch_size=batch_size)
        totals.update({key: int(report.get(key) or 0) for key in COUNTED})
        for group, prefix in (("messages_updated", "messages"), ("unused", "unused"),
                              ("notices", "notices")):  # fmt: skip
            for name, count in (report.get(group) or {}).items():
                totals[f"{prefix}_{name}"] += int(count)
        if report["idle"]:
            break
    rows: list[dict[str, Any]] = [{"counted": key, "count": totals[key]} for key in sorted(totals)]
    publish_summary(
        key="webhook-ingest-summary",
        rows=rows,
        description="Webhook deliveries applied in this run",
    )
    return dict(totals)
