"""Re-queue failed messages: the same rows back to pending, their history kept.

``requeue_failed`` runs one statement (``sql.REQUEUE``): candidates, exclusions and the
UPDATE together, so what is counted is what was changed. A dry run reads the same
candidates and changes nothing. Running a rerun twice queues nothing twice: the second
run finds the rows pending, no longer failed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tripcast.reruns import sql
from tripcast.reruns.selection import Selection

PREVIEW_LIMIT = 200


@dataclass(frozen=True)
class ReasonCount:
    """Messages with one outcome (requeued / would_requeue / excluded) for one reason."""

    outcome: str
    reason: str  # the exclusion reason, or the failure being retried ("error 130429")
    template: str | None
    count: int


@dataclass(frozen=True)
class RerunReport:
    run_id: uuid.UUID
    dry_run: bool
    counts: tuple[ReasonCount, ...]

    @property
    def requeued(self) -> int:
        """Messages re-queued (in a dry run: that would be)."""
        return sum(c.count for c in self.counts if c.outcome != "excluded")

    @property
    def excluded(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for count in self.counts:
            if count.outcome == "excluded":
                totals[count.reason] += count.count
        return dict(sorted(totals.items()))

    def rows(self) -> list[dict[str, Any]]:
        """The summary table: one row per outcome, reason and template."""
        return [
            {
                "outcome": count.outcome,
                "reason": count.reason,
                "template": count.template or "",
                "count": count.count,
            }
            for count in self.counts
        ]

    def as_result(self) -> dict[str, Any]:
        key = "would_requeue" if self.dry_run else "requeued"
        return {
            "run_id": str(self.run_id),
            "dry_run": self.dry_run,
            key: self.requeued,
            "excluded": self.excluded,
            "rows": self.rows(),
        }


def requeue_failed(
    engine: Engine,
    selection: Selection,
    *,
    now: datetime,
    dry_run: bool = False,
    operator: str | None = None,
    note: str | None = None,
) -> RerunReport:
    """Re-queue the failed messages ``selection`` picks (or count them, for a dry run)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. 2026-05-01T09:00:00Z)")
    run_id = uuid.uuid4()
    params = selection.params(now=now)
    if dry_run:
        statement = sql.COUNT_CANDIDATES
    else:
        statement = sql.REQUEUE
        params |= {"now": now, "run_id": str(run_id), "operator": operator, "note": note}
    with engine.begin() as connection:
        rows = connection.exec_driver_sql(statement, params).all()
    counts = tuple(ReasonCount(r.outcome, r.reason, r.template, r.n) for r in rows)
    return RerunReport(run_id=run_id, dry_run=dry_run, counts=counts)


def preview(
    connection: Connection, selection: Selection, *, now: datetime, limit: int = PREVIEW_LIMIT
) -> list[dict[str, Any]]:
    """Up to ``limit`` candidate messages, those that would be re-queued first."""
    params = selection.params(now=now) | {"limit": limit}
    rows = connection.exec_driver_sql(sql.PREVIEW_CANDIDATES, params).mappings()
    return [
        {
            "message_id": str(row["id"]),
            "user_id": str(row["user_id"]),
            "template": row["template"] or "",
            "error_code": row["error_code"],
            "failed_at": row["failed_when"].isoformat(),
            "outcome": "excluded" if row["excluded"] else "would_requeue",
            "reason": row["excluded"] or "",
        }
        for row in rows
    ]
