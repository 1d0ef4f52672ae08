"""Claiming due jobs and recording their outcomes.

The claim takes due ``pending`` jobs, and ``running`` jobs whose lease expired (their
worker died), with ``FOR UPDATE SKIP LOCKED`` so concurrent sweeps never take the same
job, and stamps them with this worker's lease. Every outcome update is guarded by that
lease: a worker that lost its lease (it was too slow and the job was reclaimed) changes
nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from tripcast.automations import sql


@dataclass(frozen=True)
class Lease:
    owner: str
    duration: timedelta = timedelta(minutes=5)

    @classmethod
    def new(cls, *, duration: timedelta = timedelta(minutes=5)) -> Lease:
        return cls(owner=f"sweep-{uuid.uuid4().hex[:12]}", duration=duration)


@dataclass(frozen=True)
class Outcome:
    """How one job ended: completed / failed / cancelled, or pending again (deferred)."""

    job_id: uuid.UUID
    status: str
    result: dict[str, Any] = field(default_factory=dict)
    error_message: str | None = None
    deferred_until: datetime | None = None


def claim_due_jobs(
    connection: Connection, *, now: datetime, lease: Lease, limit: int
) -> list[uuid.UUID]:
    rows = connection.exec_driver_sql(
        sql.CLAIM_DUE_JOBS,
        {"now": now, "limit": limit, "owner": lease.owner, "lease_until": now + lease.duration},
    )
    return [row[0] for row in rows]


def finish_jobs(
    connection: Connection, outcomes: Sequence[Outcome], *, lease: Lease
) -> set[uuid.UUID]:
    """Write outcomes still covered by ``lease``; returns the ids actually written."""
    if not outcomes:
        return set()
    params = {
        "ids": [o.job_id for o in outcomes],
        "statuses": [o.status for o in outcomes],
        "results": [json.dumps(o.result, default=str) for o in outcomes],
        "errors": [o.error_message for o in outcomes],
        "scheduled_for": [o.deferred_until for o in outcomes],
        "owner": lease.owner,
    }
    return {row[0] for row in connection.exec_driver_sql(sql.FINISH_JOBS, params)}


def touch_rules(connection: Connection, rule_ids: Sequence[uuid.UUID], *, now: datetime) -> None:
    if rule_ids:
        connection.exec_driver_sql(sql.TOUCH_RULES, {"ids": list(set(rule_ids)), "now": now})
