"""Automation rules and the jobs planned from them (seed tables 4 and 5)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import SQLModel

from tripcast.models.columns import (
    bool_col,
    fk,
    int_col,
    jsonb,
    metadata_col,
    text_col,
    timestamptz,
    uuid_pk,
)
from tripcast.models.messages import _in

TRIGGER_TYPES = ("trip_start", "trip_end", "booking_pending", "budget_exceeded", "schedule")
ACTION_TYPES = ("send_whatsapp", "send_email", "run_ai_agent", "update_trip")
JOB_STATUSES = ("pending", "running", "completed", "failed", "cancelled")


class AutomationRule(SQLModel, table=True):
    __tablename__ = "automation_rules"
    __table_args__ = (
        CheckConstraint(
            _in("trigger_type", TRIGGER_TYPES), name="automation_rules_trigger_type_check"
        ),
        CheckConstraint(
            _in("action_type", ACTION_TYPES), name="automation_rules_action_type_check"
        ),
        Index("idx_automation_rules_user_id", "user_id"),
        Index(
            "idx_automation_rules_active", "is_active", postgresql_where=text("is_active = true")
        ),
    )

    id: uuid.UUID | None = uuid_pk()
    user_id: uuid.UUID = fk(
        "auth.users.id", ondelete="CASCADE", name="automation_rules_user_id_fkey"
    )
    name: str = text_col(nullable=False)
    description: str | None = text_col()
    trigger_type: str = text_col(nullable=False)
    trigger_config: dict[str, Any] = jsonb(nullable=False)
    action_type: str = text_col(nullable=False)
    action_config: dict[str, Any] = jsonb(nullable=False)
    is_active: bool | None = bool_col(default=True)
    last_triggered_at: datetime | None = timestamptz()
    meta: dict[str, Any] | None = metadata_col()
    created_at: datetime | None = timestamptz(default_now=True)
    updated_at: datetime | None = timestamptz(default_now=True)
    # tripcast: a rule whose stored config is malformed fails alone; the reason is kept here.
    last_error: str | None = text_col()
    last_error_at: datetime | None = timestamptz()


class ScheduledJob(SQLModel, table=True):
    __tablename__ = "scheduled_jobs"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="scheduled_jobs_dedupe_key_key"),
        CheckConstraint(_in("status", JOB_STATUSES), name="scheduled_jobs_status_check"),
        Index("idx_scheduled_jobs_user_id", "user_id"),
        Index("idx_scheduled_jobs_scheduled_for", "scheduled_for"),
        Index("idx_scheduled_jobs_status", "status"),
        # tripcast: the sweep's claim reads due pending jobs and running jobs whose lease
        # expired; this partial index covers exactly those rows.
        Index(
            "idx_scheduled_jobs_claimable",
            "scheduled_for",
            postgresql_where=text("status = ANY (ARRAY['pending'::text, 'running'::text])"),
        ),
    )

    id: uuid.UUID | None = uuid_pk()
    user_id: uuid.UUID = fk("auth.users.id", ondelete="CASCADE", name="scheduled_jobs_user_id_fkey")
    automation_rule_id: uuid.UUID | None = fk(
        "automation_rules.id",
        ondelete="CASCADE",
        nullable=True,
        name="scheduled_jobs_automation_rule_id_fkey",
    )
    trip_id: uuid.UUID | None = fk(
        "trips.id", ondelete="CASCADE", nullable=True, name="scheduled_jobs_trip_id_fkey"
    )
    job_type: str = text_col(nullable=False)
    scheduled_for: datetime = timestamptz(nullable=False)
    status: str = text_col(nullable=False, default="pending")
    result: dict[str, Any] | None = jsonb()
    error_message: str | None = text_col()
    executed_at: datetime | None = timestamptz()
    created_at: datetime | None = timestamptz(default_now=True)
    # tripcast: unique per (rule, subject, occurrence) so planning is idempotent.
    dedupe_key: str | None = text_col()
    # tripcast: what the occurrence is about (booking id, threshold, tick) for the action.
    payload: dict[str, Any] | None = jsonb()
    lease_owner: str | None = text_col()
    lease_expires_at: datetime | None = timestamptz()
    attempts: int | None = int_col(default=0)
