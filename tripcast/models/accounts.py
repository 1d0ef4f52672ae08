"""Travellers' WhatsApp accounts and notification preferences (seed tables 1 and 3)."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import ARRAY, CheckConstraint, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from tripcast.models.columns import (
    bool_col,
    fk,
    int_col,
    metadata_col,
    text_col,
    time_col,
    timestamptz,
    uuid_pk,
)

OPT_IN_STATUSES = ("pending", "opted_in", "opted_out")


class WhatsAppAccount(SQLModel, table=True):
    __tablename__ = "whatsapp_accounts"
    __table_args__ = (
        UniqueConstraint("user_id", name="whatsapp_accounts_user_id_key"),
        UniqueConstraint("phone_number", name="whatsapp_accounts_phone_number_key"),
        UniqueConstraint("bsuid", name="whatsapp_accounts_bsuid_key"),
        CheckConstraint(
            "opt_in_status = ANY (ARRAY['pending'::text, 'opted_in'::text, 'opted_out'::text])",
            name="whatsapp_accounts_opt_in_status_check",
        ),
        CheckConstraint("market ~ '^[A-Z]{2}$'::text", name="whatsapp_accounts_market_check"),
        Index("idx_whatsapp_accounts_user_id", "user_id"),
        Index("idx_whatsapp_accounts_phone", "phone_number"),
    )

    id: uuid.UUID | None = uuid_pk()
    user_id: uuid.UUID = fk(
        "auth.users.id", ondelete="CASCADE", name="whatsapp_accounts_user_id_fkey"
    )
    # E.164 digits without '+', the form of WhatsApp's wa_id and a webhook's `from`.
    phone_number: str = text_col(nullable=False)
    country_code: str = text_col(nullable=False)
    is_verified: bool | None = bool_col(default=False)
    verification_code: str | None = text_col()
    verification_expires_at: datetime | None = timestamptz()
    opt_in_status: str = text_col(nullable=False, default="pending")
    opted_in_at: datetime | None = timestamptz()
    opted_out_at: datetime | None = timestamptz()
    meta: dict[str, Any] | None = metadata_col()
    created_at: datetime | None = timestamptz(default_now=True)
    updated_at: datetime | None = timestamptz(default_now=True)
    # tripcast: start of the 24-hour customer-service window (free text allowed while
    # the traveller's last inbound message is under 24 h old).
    last_inbound_at: datetime | None = timestamptz()
    # tripcast: wrong codes entered against the current verification code; at the limit
    # the code is void, so six digits cannot be guessed by trying them all.
    verification_attempts: int = int_col(default=0, nullable=False)
    # tripcast: when codes were sent within the last hour, for the re-send throttle (one a
    # minute, five an hour per account), so nobody can flood a number with codes.
    verification_sends: list[datetime] | None = Field(
        default=None, sa_type=ARRAY(DateTime(timezone=True)), nullable=True
    )
    # tripcast: when the number was last proven; opted_in_at also moves with STOP/START.
    verified_at: datetime | None = timestamptz()
    # tripcast: WhatsApp's business-scoped user ID (``contacts[].user_id``) and username,
    # learned from webhooks carrying them with the phone number; a traveller who hides
    # the number behind a username is matched and sent to through the BSUID.
    bsuid: str | None = text_col()
    username: str | None = text_col()
    # tripcast: the ISO 3166 alpha-2 country the traveller is served from, when the
    # application knows it; routing prefers it to the phone number's country.
    market: str | None = text_col()


class NotificationPreferences(SQLModel, table=True):
    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("user_id", name="notification_preferences_user_id_key"),
        Index("idx_notification_preferences_user_id", "user_id"),
    )

    id: uuid.UUID | None = uuid_pk()
    user_id: uuid.UUID = fk(
        "auth.users.id", ondelete="CASCADE", name="notification_preferences_user_id_fkey"
    )
    trip_reminders: bool | None = bool_col(default=True)
    booking_confirmations: bool | None = bool_col(default=True)
    itinerary_updates: bool | None = bool_col(default=True)
    budget_alerts: bool | None = bool_col(default=True)
    ai_suggestions: bool | None = bool_col(default=True)
    collaborator_updates: bool | None = bool_col(default=True)
    marketing: bool | None = bool_col(default=False)
    quiet_hours_enabled: bool | None = bool_col(default=False)
    quiet_hours_start: time | None = time_col()
    quiet_hours_end: time | None = time_col()
    timezone: str | None = text_col(default="UTC")
    created_at: datetime | None = timestamptz(default_now=True)
    updated_at: datetime | None = timestamptz(default_now=True)
