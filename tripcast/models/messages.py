"""The outbox and its audit trail: whatsapp_messages and delivery_logs (seed tables 2, 6)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, field_validator, model_validator
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
from tripcast.rules.categories import CATEGORIES

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


# Meta's pricing categories, beside the notification categories of automation rules: the
# values ``metadata.category`` may hold (the generated ``priority`` and the expiry trigger
# read it; anything else would silently count as utility).
WHATSAPP_CATEGORIES = ("authentication", "utility", "service", "marketing")
OUTBOUND_CATEGORIES = tuple(dict.fromkeys((*WHATSAPP_CATEGORIES, *CATEGORIES)))
# Keys the writer builds itself from the typed fields; extra metadata may not shadow them.
RESERVED_METADATA = ("template", "category", "sender")


class OutboundMessageBase(SQLModel):
    """The columns a writer of an outbound message chooses (the table is ``WhatsAppMessage``)."""

    user_id: uuid.UUID
    whatsapp_account_id: uuid.UUID
    trip_id: uuid.UUID | None = None
    message_type: Literal["text", "template"]
    content: str
    # At most one message per key (a planned occurrence); a second write returns the first.
    dedupe_key: str | None = None
    scheduled_job_id: uuid.UUID | None = None
    # None: due since inserted. None expiry: the outbox trigger applies the category's default.
    next_attempt_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None


class OutboundMessageCreate(OutboundMessageBase):
    """An outbound message to queue: the base columns plus what goes into ``metadata``."""

    category: str | None = None
    # As the Cloud API takes it: {"name", "language": {"code"}, "components"}.
    template: dict[str, Any] | None = None
    # A phone number id that overrides sender routing.
    sender: str | None = None
    # Any further metadata keys (``source``, ``verification``…), as the table's ``meta``.
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        if value is not None and value not in OUTBOUND_CATEGORIES:
            raise ValueError(
                f"unknown message category {value!r} (expected one of: "
                f"{', '.join(OUTBOUND_CATEGORIES)})"
            )
        return value

    @field_validator("template")
    @classmethod
    def _template_shape(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        language = value.get("language")
        if not isinstance(value.get("name"), str) or not value["name"]:
            raise ValueError("a template needs a non-empty 'name'")
        if not isinstance(language, dict) or not isinstance(language.get("code"), str):
            raise ValueError("a template needs 'language': {'code': ...}")
        return value

    @field_validator("sender")
    @classmethod
    def _phone_number_id(cls, value: str | None) -> str | None:
        if value is not None and not (value.isascii() and value.isdigit() and len(value) <= 32):
            raise ValueError(f"sender {value!r} is not a phone number id (1 to 32 digits)")
        return value

    @field_validator("meta")
    @classmethod
    def _no_shadowing(cls, value: dict[str, Any]) -> dict[str, Any]:
        shadowed = sorted(key for key in RESERVED_METADATA if key in value)
        if shadowed:
            raise ValueError(f"metadata may not set {', '.join(shadowed)}: use the field")
        return value

    @model_validator(mode="after")
    def _template_message_has_template(self) -> OutboundMessageCreate:
        if self.message_type == "template" and self.template is None:
            raise ValueError("a template message needs its template")
        return self

    def row_metadata(self) -> dict[str, Any]:
        """``whatsapp_messages.metadata`` as dispatch, routing and the trigger read it."""
        built = dict(self.meta)
        if self.template is not None:
            built["template"] = self.template
        if self.category is not None:
            built["category"] = self.category
        if self.sender is not None:
            built["sender"] = self.sender
        return built
