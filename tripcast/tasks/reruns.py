"""Prefect tasks of the rerun flow: re-queue (or count) failed messages, preview them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tripcast.models.engine import get_engine
from tripcast.reruns.requeue import RerunReport, preview, requeue_failed
from tripcast.reruns.selection import Selection
from tripcast.tasks.decorator import database_task

TAGS = ["tripcast", "rerun"]


# Safe to retry: one statement, and a retry after a lost commit finds the rows pending.
@database_task("requeue-failed-messages", tags=TAGS)
def requeue_task(
    *,
    selection: Selection,
    now: datetime,
    dry_run: bool,
    operator: str | None = None,
    note: str | None = None,
) -> RerunReport:
    return requeue_failed(
        get_engine(), selection, now=now, dry_run=dry_run, operator=operator, note=note
    )


@database_task("preview-rerun", tags=TAGS)
def preview_task(*, selection: Selection, now: datetime) -> list[dict[str, Any]]:
    with get_engine().connect() as connection:
        return preview(connection, selection, now=now)


NOTHING_MATCHED = "no failed message matched"


def summary_rows(report: RerunReport) -> list[dict[str, Any]]:
    """The summary artifact's table; a row saying so when nothing matched (never empty)."""
    outcome = "would_requeue" if report.dry_run else "requeued"
    return report.rows() or [
        {"outcome": outcome, "reason": NOTHING_MATCHED, "template": "", "count": 0}
    ]


def preview_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return rows or [{"outcome": "would_requeue", "reason": NOTHING_MATCHED}]
