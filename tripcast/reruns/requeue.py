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
from tripcast.rules.config_errors import UnknownTimezone
from tripcast.rules.quiet_hours import quiet_hours_end_for

PREVIEW_LIMIT = 200


@dataclass(frozen=True)
class ReasonCount:
    """Messages with one outcome for one reason. Outcomes: ``requeued`` (due now),
    ``deferred`` (re-queued, due when the traveller's quiet hours end), ``excluded``; a
    dry run says ``would_requeue`` / ``would_defer``."""

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
        """Messages re-queued, deferred ones included (in a dry run: that would be)."""
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
    with engine.begin() as connection:
        params |= quiet_hours_ends(connection, params, now=now)
        if dry_run:
            rows = connection.exec_driver_sql(sql.COUNT_CANDIDATES, params).all()
        else:
            params |= {"now": now, "run_id": str(run_id), "operator": operator, "note": note}
            rows = connection.exec_driver_sql(sql.REQUEUE, params).all()
    counts = sorted(
        (ReasonCount(r.outcome, r.reason, r.template, r.n) for r in rows),
        key=lambda c: (c.outcome == "excluded", -c.count, c.reason, c.template or ""),
    )
    return RerunReport(run_id=run_id, dry_run=dry_run, counts=tuple(counts))


def quiet_hours_ends(
    connection: Connection, params: dict[str, Any], *, now: datetime
) -> dict[str, list[Any]]:
    """When each candidate traveller inside their quiet hours may be messaged again.

    One row per traveller with quiet hours on (not per message); the rule is the one the
    sweep applies, an unknown timezone read as UTC as the sweep does.
    """
    users, ends = [], []
    for row in connection.exec_driver_sql(sql.QUIET_HOURS, params).mappings():
        preferences = dict(row)
        try:
            end = quiet_hours_end_for(now, preferences)
        except UnknownTimezone:
            end = quiet_hours_end_for(now, {**preferences, "timezone": "UTC"})
        if end is not None:
            users.append(row["user_id"])
            ends.append(end)
    return {"quiet_users": users, "quiet_until": ends}


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
