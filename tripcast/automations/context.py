"""Everything a claimed job needs to be decided, loaded for a whole batch in one query."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from tripcast.automations import sql

PREFERENCE_KEYS = (
    "trip_reminders",
    "booking_confirmations",
    "itinerary_updates",
    "budget_alerts",
    "ai_suggestions",
    "collaborator_updates",
    "marketing",
    "quiet_hours_enabled",
    "quiet_hours_start",
    "quiet_hours_end",
    "timezone",
)


@dataclass(frozen=True)
class JobContext:
    job_id: uuid.UUID
    user_id: uuid.UUID
    rule_id: uuid.UUID | None
    trip_id: uuid.UUID | None
    job_type: str
    dedupe_key: str | None
    payload: Mapping[str, Any]
    attempts: int
    previous_result: Mapping[str, Any]
    rule: Mapping[str, Any] | None
    trip: Mapping[str, Any] | None
    booking: Mapping[str, Any] | None
    spent: Decimal | None
    account: Mapping[str, Any] | None
    preferences: Mapping[str, Any] | None
    email: str | None

    @property
    def day(self) -> date | None:
        """The trip date a trip_start / trip_end job was planned for."""
        raw = self.payload.get("day")
        return date.fromisoformat(raw) if isinstance(raw, str) else None


def _prefixed(row: Mapping[str, Any], prefix: str) -> dict[str, Any] | None:
    values = {k.removeprefix(prefix): v for k, v in row.items() if k.startswith(prefix)}
    return values if values.get("id") is not None else None


def _context(row: Mapping[str, Any]) -> JobContext:
    rule = None
    if row["rule_id"] is not None:
        rule = {
            key: row[key]
            for key in ("trigger_type", "trigger_config", "action_type", "action_config")
        }
        rule["is_active"] = row["rule_active"]
    preferences = None
    if row["p_id"] is not None:
        preferences = {key: row[key] for key in PREFERENCE_KEYS}
    return JobContext(
        job_id=row["job_id"],
        user_id=row["user_id"],
        rule_id=row["rule_id"],
        trip_id=row["trip_id"],
        job_type=row["job_type"],
        dedupe_key=row["dedupe_key"],
        payload=row["payload"] or {},
        attempts=row["attempts"] or 0,
        previous_result=row["result"] or {},
        rule=rule,
        trip=_prefixed(row, "t_"),
        booking=_prefixed(row, "b_"),
        spent=row["spent"],
        account=_prefixed(row, "a_"),
        preferences=preferences,
        email=row["email"],
    )


def load_job_contexts(connection: Connection, job_ids: Sequence[uuid.UUID]) -> list[JobContext]:
    if not job_ids:
        return []
    rows = connection.exec_driver_sql(sql.JOB_CONTEXT, {"ids": list(job_ids)}).mappings()
    return [_context(dict(row)) for row in rows]


def render_context(job: JobContext, *, now: datetime) -> dict[str, dict[str, object]]:
    """Placeholder values (``{trip.title}``, ``{budget.percent}``…) for this job's subject."""
    context: dict[str, dict[str, object]] = {}
    if job.trip is not None:
        trip = dict(job.trip)
        start = trip.get("start_date")
        if isinstance(start, date):
            trip["days_until"] = (start - now.date()).days
        context["trip"] = {k: v for k, v in trip.items() if k not in ("budget", "currency")}
        budget, spent = trip.get("budget"), job.spent or Decimal(0)
        if isinstance(budget, Decimal) and budget > 0:
            context["budget"] = {
                "total": budget,
                "spent": spent,
                "remaining": budget - spent,
                "percent": int(spent * 100 // budget),
                "currency": trip.get("currency"),
                "threshold": job.payload.get("threshold"),
            }
    if job.booking is not None:
        booking = dict(job.booking)
        created = booking.get("created_at")
        if isinstance(created, datetime):
            booking["hours_pending"] = int((now - created).total_seconds() // 3600)
        context["booking"] = booking
    return context
