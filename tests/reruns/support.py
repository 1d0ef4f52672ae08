"""Builders for rerun tests: failed messages with their history, and reading them back."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tests.support.world import Traveller, insert, make_rule


def failed_message(
    connection: Connection,
    who: Traveller,
    *,
    failed_at: datetime | None,
    error_code: int | None = 130429,
    failed_reason: str | None = None,
    template: str | None = "trip_reminder",
    category: str | None = "trip_reminders",
    job_id: uuid.UUID | None = None,
    metadata: Any = None,
    **columns: Any,
) -> uuid.UUID:
    """A failed outbound template message, as dispatch leaves one (one failed attempt)."""
    if metadata is None:
        metadata = {"category": category} if category else {}
        if template:
            metadata["template"] = {"name": template, "language": {"code": "en"}}
    return insert(
        connection,
        "whatsapp_messages",
        user_id=who.user,
        whatsapp_account_id=who.account,
        direction=columns.pop("direction", "outbound"),
        message_type="template",
        content=f"[{template}]",
        status=columns.pop("status", "failed"),
        metadata=json.dumps(metadata),
        failed_at=failed_at,
        error_code=error_code,
        failed_reason=failed_reason or f"{error_code}: failed",
        retry_count=columns.pop("retry_count", 4),
        scheduled_job_id=job_id,
        **columns,
    )


def job_for_rule(connection: Connection, who: Traveller) -> tuple[uuid.UUID, uuid.UUID]:
    """A rule and a job planned from it: (rule id, job id)."""
    rule = make_rule(
        connection, user_id=who.user, trigger_type="trip_start", trigger_config={"days_before": 1}
    )
    job = insert(
        connection,
        "scheduled_jobs",
        user_id=who.user,
        automation_rule_id=rule,
        job_type="send_whatsapp",
        scheduled_for="2026-04-30T09:00Z",
        status="completed",
    )
    return rule, job


def message(engine: Engine, message_id: uuid.UUID) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT * FROM whatsapp_messages WHERE id = %(id)s", {"id": message_id}
        ).mappings()
        return dict(row.one())


def statuses(engine: Engine) -> dict[uuid.UUID, str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, status FROM whatsapp_messages")
        return {row.id: row.status for row in rows}
