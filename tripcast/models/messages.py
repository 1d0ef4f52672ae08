"""The outbox and its audit trail: whatsapp_messages and delivery_logs (seed tables 2, 6)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Computed,
    Index,
    SmallInteger,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from tripcast.models.columns import fk, int_col, jsonb, metadata_col, text_col, timestamptz, uuid_pk

MESSAGE_STATUSES = ("pending", "sent", "delivered", "read", "failed")
DELIVERY_STATUSES = ("sent", "delivered", "failed", "bounced")
PENDING_OUTBOUND = "status = 'pending'::text AND direction = 'outbound'::text"
# Dispatch order (DESIGN section 9): lower goes first; no or an unknown category = utility.
PRIORITY_CLASSES = ("authentication", "utility", "service", "marketing")
PRIORITY = (
    "CASE metadata ->> 'category' WHEN 'authentication' THEN 0 WHEN 'service' THEN 2 "
    "WHEN 'marketing' THEN 3 ELSE 1 END"
)


def _in(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'::text" for value in values)
    return f"{column} = ANY (ARRAY[{listed}])"


class WhatsAppMessage(SQLModel, table=True):
    __tablename__ = "whatsapp_messages"
    __table_args__ = (
        UniqueConstraint("external_id", name="whatsapp_messages_external_id_key"),
        UniqueConstraint("dedupe_key", name="whatsapp_messages_dedupe_key_key"),
        CheckConstraint(
            _in("direction", ("outbound", "inbound")), name="whatsapp_messages_direction_check"
        ),
        CheckConstraint(
            _in("message_type", ("text", "image", "location", "template")),
            name="whatsapp_messages_message_type_check",
        ),
        CheckConstraint(_in("status", MESSAGE_STATUSES), name="whatsapp_messages_status_check"),
        Index("idx_whatsapp_messages_user_id", "user_id"),
        Index("idx_whatsapp_messages_account_id", "whatsapp_account_id"),
        Index("idx_whatsapp_messages_trip_id", "trip_id"),
        Index("idx_whatsapp_messages_status", "status"),
        Index("idx_whatsapp_messages_created_at", text("created_at DESC")),
        # tripcast: the dispatch claim reads only due outbound pending rows, class by
        # class and oldest first; a partial index keeps that read flat as the table
        # grows to a year of history. No next_attempt_at = due since inserted: first.
        Index(
            "idx_whatsapp_messages_dispatch_queue",
            "priority",
            text("coalesce(next_attempt_at, '-infinity'::timestamp with time zone)"),
            "created_at",
            postgresql_where=text(PENDING_OUTBOUND),
        ),
        # tripcast: pending rows with an expiry, for the expiry pass before each claim.
        Index(
            "idx_whatsapp_messages_pending_expiry",
            "expires_at",
            postgresql_where=text(f"{PENDING_OUTBOUND} AND expires_at IS NOT NULL"),
        ),
        # tripcast: a traveller's latest conversation per business number, for routing.
        Index(
            "idx_whatsapp_messages_account_sender",
            "whatsapp_account_id",
            text("created_at DESC"),
            postgresql_where=text("sender_phone_number_id IS NOT NULL"),
        ),
        # tripcast: business-initiated sends in the last 24 h, for the messaging limit.
        Index(
            "idx_whatsapp_messages_template_reach",
            text("coalesce(sent_at, send_started_at)"),
            postgresql_where=text(
                "direction = 'outbound'::text AND message_type = 'template'::text "
                "AND send_started_at IS NOT NULL"
            ),
        ),
    )

    id: uuid.UUID | None = uuid_pk()
    user_id: uuid.UUID = fk(
        "auth.users.id", ondelete="CASCADE", name="whatsapp_messages_user_id_fkey"
    )
    whatsapp_account_id: uuid.UUID = fk(
        "whatsapp_accounts.id",
        ondelete="CASCADE",
        name="whatsapp_messages_whatsapp_account_id_fkey",
    )
    trip_id: uuid.UUID | None = fk(
        "trips.id", ondelete="CASCADE", nullable=True, name="whatsapp_messages_trip_id_fkey"
    )
    direction: str = text_col(nullable=False)
    message_type: str = text_col(nullable=False)
    content: str = text_col(nullable=False)
    media_url: str | None = text_col()
    external_id: str | None = text_col()  # WhatsApp's wamid
    status: str = text_col(nullable=False, default="pending")
    delivered_at: datetime | None = timestamptz()
    read_at: datetime | None = timestamptz()
    failed_reason: str | None = text_col()
    retry_count: int | None = int_col(default=0)
    meta: dict[str, Any] | None = metadata_col()
    created_at: datetime | None = timestamptz(default_now=True)
    updated_at: datetime | None = timestamptz(default_now=True)
    # tripcast: one message per planned occurrence, whatever retries or races happen.
    dedupe_key: str | None = text_col()
    scheduled_job_id: uuid.UUID | None = fk(
        "scheduled_jobs.id",
        ondelete="SET NULL",
        nullable=True,
        name="whatsapp_messages_scheduled_job_id_fkey",
    )
    # tripcast: a pending row is due at next_attempt_at (NULL = now); backoff and quiet
    # hours move it forward, so every pending message has a time.
    next_attempt_at: datetime | None = timestamptz()
    # tripcast: dispatch lease; a crashed worker's rows are reclaimed after it expires.
    lease_owner: str | None = text_col()
    lease_expires_at: datetime | None = timestamptz()
    # tripcast: set just before the POST; pending + send_started_at = possibly accepted
    # by WhatsApp (in doubt) and reconciled from the status webhook before any re-send.
    send_started_at: datetime | None = timestamptz()
    sent_at: datetime | None = timestamptz()
    failed_at: datetime | None = timestamptz()
    # tripcast: Meta's error.code of the failure, for reruns filtered by code.
    error_code: int | None = int_col()
    # tripcast: never sent at or after this (filled per category by a trigger when the
    # writer leaves it empty, migration 0010).
    expires_at: datetime | None = timestamptz()
    # tripcast: the dispatch class from metadata.category (generated, never written).
    priority: int | None = Field(
        default=None, sa_column=Column("priority", SmallInteger, Computed(PRIORITY, persisted=True))
    )
    # tripcast: the business number (phone number id) that sent it, or that received it
    # for an inbound message (the webhook's metadata.phone_number_id).
    sender_phone_number_id: str | None = text_col()


class DeliveryLog(SQLModel, table=True):
    __tablename__ = "delivery_logs"
    __table_args__ = (
        CheckConstraint(
            _in("channel", ("whatsapp", "email", "push", "sms")), name="delivery_logs_channel_check"
        ),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="delivery_logs_status_check"),
        Index("idx_delivery_logs_user_id", "user_id"),
        Index("idx_delivery_logs_whatsapp_message_id", "whatsapp_message_id"),
        Index("idx_delivery_logs_status", "status"),
    )

    id: uuid.UUID | None = uuid_pk()
    user_id: uuid.UUID = fk("auth.users.id", ondelete="CASCADE", name="delivery_logs_user_id_fkey")
    whatsapp_message_id: uuid.UUID | None = fk(
        "whatsapp_messages.id",
        ondelete="SET NULL",
        nullable=True,
        name="delivery_logs_whatsapp_message_id_fkey",
    )
    channel: str = text_col(nullable=False)
    recipient: str = text_col(nullable=False)
    status: str = text_col(nullable=False)
    provider_response: dict[str, Any] | None = jsonb()
    error_message: str | None = text_col()
    delivered_at: datetime | None = timestamptz()
    created_at: datetime | None = timestamptz(default_now=True)
    # tripcast: which send attempt this row records, and Meta's error code if it failed.
    attempt: int | None = int_col()
    error_code: int | None = int_col()
