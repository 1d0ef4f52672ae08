"""The rerun flow: analysts re-queue failed notification batches, or preview them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from prefect import flow

from tripcast.flows.timing import run_name
from tripcast.reruns.selection import Selection
from tripcast.rules.clock import resolve_now
from tripcast.tasks.automations import publish_summary
from tripcast.tasks.reruns import preview_rows, preview_task, requeue_task, summary_rows


@flow(name="rerun-failed", flow_run_name=run_name("rerun-failed"))
def rerun_failed(
    since: datetime | None = None,
    until: datetime | None = None,
    templates: list[str] | None = None,
    error_codes: list[int] | None = None,
    user_ids: list[uuid.UUID] | None = None,
    rule_ids: list[uuid.UUID] | None = None,
    include_permanent: bool = False,
    include_expired: bool = False,
    expires_in: timedelta | None = None,
    dry_run: bool = False,
    operator: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Re-queue failed messages matching every given filter (``dry_run``: change nothing).

    Permanent failures are skipped unless ``include_permanent``, expired messages unless
    ``include_expired`` (they get the new expiry ``expires_in``); consent and preferences
    are checked as of now. Returns the counts; the run's artifacts show them by reason.
    """
    moment = resolve_now(now)
    selection = Selection(
        since=since,
        until=until,
        templates=tuple(templates or ()),
        error_codes=tuple(error_codes or ()),
        user_ids=tuple(user_ids or ()),
        rule_ids=tuple(rule_ids or ()),
        include_permanent=include_permanent,
        include_expired=include_expired,
        expires_in=expires_in,
    )
    report = requeue_task(
        selection=selection, now=moment, dry_run=dry_run, operator=operator, note=note
    )
    mode = "Dry run" if dry_run else "Rerun"
    publish_summary(
        key="rerun-failed-summary",
        rows=summary_rows(report),
        description=f"{mode} at {moment:%Y-%m-%d %H:%M:%S} UTC: {selection.describe()}",
    )
    if dry_run:
        publish_summary(
            key="rerun-failed-preview",
            rows=preview_rows(preview_task(selection=selection, now=moment)),
            description="Messages the rerun would re-queue (first), then those it would skip",
        )
    return report.as_result()
