"""Durable storage of WhatsApp webhook deliveries, applied later by the ingest flow."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import SQLModel

from tripcast.models.columns import int_col, jsonb, text_col, timestamptz, uuid_pk

DELIVERY_STATUSES = ("received", "applied", "partial", "rejected")


class WebhookDelivery(SQLModel, table=True):
    """One POST from Meta, stored before it is acknowledged (so none is lost)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # Meta re-delivers the same body when it saw no 200: keep one copy.
        UniqueConstraint("body_sha256", name="webhook_deliveries_body_sha256_key"),
        CheckConstraint(
            "status = ANY (ARRAY['received'::text, 'applied'::text, 'partial'::text, "
            "'rejected'::text])",
            name="webhook_deliveries_status_check",
        ),
        Index(
            "idx_webhook_deliveries_unapplied",
            "received_at",
            postgresql_where=text("status = ANY (ARRAY['received'::text, 'partial'::text])"),
        ),
    )

    id: uuid.UUID | None = uuid_pk()
    received_at: datetime = timestamptz(default_now=True, nullable=False)
    body_sha256: str = text_col(nullable=False)
    payload: dict[str, Any] = jsonb(nullable=False)
    status: str = text_col(nullable=False, default="received")
    attempts: int = int_col(default=0, nullable=False)
    next_attempt_at: datetime | None = timestamptz()
    processed_at: datetime | None = timestamptz()
    last_error: str | None = text_col()
