"""Webhook ingest tables: deliveries as received, and what applying them left to review.

- ``webhook_deliveries``: each POST from Meta, stored before it is acknowledged.
- ``webhook_unmatched_statuses``: status receipts that matched no message yet (they can
  arrive before the send's own commit); retried with backoff, given up with a reason.
- ``webhook_unknown_senders``: inbound messages from numbers with no account, for review.
- ``consent_events``: every STOP / START keyword a traveller sent and what it changed.
- ``webhook_review_items``: what a person should look at: items of a delivery that could
  never be applied (with the reason), a traveller's phone number or identity changing,
  an edit or revoke of a message tripcast does not hold.

All five have row-level security enabled (tripcast connects as the owner); travellers may
read their own consent events.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import SQLModel

from tripcast.models.columns import fk, int_col, jsonb, text_col, timestamptz, uuid_pk

DELIVERY_STATUSES = ("received", "applied", "rejected")
UNMATCHED_STATES = ("waiting", "given_up")
CONSENT_INTENTS = ("stop", "start")
CONSENT_OUTCOMES = ("opted_out", "opted_in", "unchanged", "stale")
# keyword: STOP / START; user_preferences: Meta's webhook; error_131050: a refused send.
CONSENT_SOURCES = ("keyword", "user_preferences", "error_131050")
REVIEW_KINDS = (
    "rejected_item",
    "number_changed",
    "identity_changed",
    "system",
    "edit",
    "revoke",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'::text" for value in values)
    return f"{column} = ANY (ARRAY[{listed}])"


def _delivery_fk(table: str) -> Any:
    # Deliveries may be pruned once applied; what they left for review stays.
    return fk(
        "webhook_deliveries.id",
        ondelete="SET NULL",
        nullable=True,
        name=f"{table}_delivery_id_fkey",
    )


class WebhookDelivery(SQLModel, table=True):
    """One POST from Meta, stored before it is acknowledged (so none is lost)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # Meta re-delivers the same body when it saw no 200: keep one copy.
        UniqueConstraint("body_sha256", name="webhook_deliveries_body_sha256_key"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="webhook_deliveries_status_check"),
        Index(
            "idx_webhook_deliveries_unapplied",
            "received_at",
            postgresql_where=text("status = 'received'::text"),
        ),
        # Pruning applied deliveries (ingest.prune_applied) without scanning the inbox.
        Index(
            "idx_webhook_deliveries_applied",
            "processed_at",
            postgresql_where=text("status = 'applied'::text"),
        ),
    )

    id: uuid.UUID | None = uuid_pk()
    received_at: datetime = timestamptz(default_now=True, nullable=False)
    body_sha256: str = text_col(nullable=False)
    payload: dict[str, Any] = jsonb(nullable=False)
    # received → applied, or rejected (malformed, or failing to apply max_attempts times).
    status: str = text_col(nullable=False, default="received")
    # Statuses plus inbound messages in the body: sizes the ingest's batches and reports.
    item_count: int = int_col(default=0, nullable=False)
    attempts: int = int_col(default=0, nullable=False)
    next_attempt_at: datetime | None = timestamptz()
    processed_at: datetime | None = timestamptz()
    last_error: str | None = text_col()


class WebhookUnmatchedStatus(SQLModel, table=True):
    """A status receipt no message matched yet: kept, retried, and given up with a reason."""

    __tablename__ = "webhook_unmatched_statuses"
    __table_args__ = (
        # Meta's duplicates of a waiting receipt are one row, not one retry loop each.
        UniqueConstraint(
            "wamid", "status", "status_at", name="webhook_unmatched_statuses_receipt_key"
        ),
        CheckConstraint(
            _in("state", UNMATCHED_STATES), name="webhook_unmatched_statuses_state_check"
        ),
        Index(
            "idx_webhook_unmatched_statuses_due",
            "next_attempt_at",
            postgresql_where=text("state = 'waiting'::text"),
        ),
        # Recent receipts are checked against new sends on every batch (receipts.py).
        Index(
            "idx_webhook_unmatched_statuses_recent",
            "first_seen_at",
            postgresql_where=text("state = 'waiting'::text"),
        ),
    )

    id: uuid.UUID | None = uuid_pk()
    wamid: str = text_col(nullable=False)
    status: str = text_col(nullable=False)
    status_at: datetime = timestamptz(nullable=False)
    callback_data: str | None = text_col()
    payload: dict[str, Any] = jsonb(nullable=False)  # the status object as Meta sent it
    delivery_id: uuid.UUID | None = _delivery_fk("webhook_unmatched_statuses")
    state: str = text_col(nullable=False, default="waiting")
    attempts: int = int_col(default=0, nullable=False)
    first_seen_at: datetime = timestamptz(default_now=True, nullable=False)
    next_attempt_at: datetime = timestamptz(nullable=False)
    given_up_at: datetime | None = timestamptz()
    reason: str | None = text_col()


class WebhookUnknownSender(SQLModel, table=True):
    """An inbound message from a number that matches no WhatsApp account: kept for review."""

    __tablename__ = "webhook_unknown_senders"
    __table_args__ = (
        UniqueConstraint("external_id", name="webhook_unknown_senders_external_id_key"),
        Index("idx_webhook_unknown_senders_sender", "sender"),
        Index("idx_webhook_unknown_senders_user_id", "sender_user_id"),
    )

    id: uuid.UUID | None = uuid_pk()
    sender: str | None = text_col()  # E.164 digits, as in whatsapp_accounts; absent for
    # a traveller known only by BSUID
    sender_user_id: str | None = text_col()  # the BSUID, when Meta gave one
    external_id: str = text_col(nullable=False)  # the inbound wamid
    message_type: str = text_col(nullable=False)  # WhatsApp's own type (text, audio, ...)
    content: str = text_col(nullable=False)
    intent: str | None = text_col()  # stop / start, should the number later join
    profile_name: str | None = text_col()
    phone_number_id: str | None = text_col()
    sent_at: datetime = timestamptz(nullable=False)
    received_at: datetime = timestamptz(default_now=True, nullable=False)
    delivery_id: uuid.UUID | None = _delivery_fk("webhook_unknown_senders")
    payload: dict[str, Any] = jsonb(nullable=False)
    reviewed_at: datetime | None = timestamptz()
    # Set once an account's BSUID matched this row: the message was stored as theirs.
    whatsapp_account_id: uuid.UUID | None = fk(
        "whatsapp_accounts.id",
        ondelete="SET NULL",
        nullable=True,
        name="webhook_unknown_senders_whatsapp_account_id_fkey",
    )
    linked_at: datetime | None = timestamptz()


class ConsentEvent(SQLModel, table=True):
    """One STOP / START keyword from a traveller and what it did to their opt-in status."""

    __tablename__ = "consent_events"
    __table_args__ = (
        # One event per inbound message, however often Meta delivers it.
        UniqueConstraint("inbound_external_id", name="consent_events_inbound_external_id_key"),
        CheckConstraint(_in("intent", CONSENT_INTENTS), name="consent_events_intent_check"),
        CheckConstraint(_in("outcome", CONSENT_OUTCOMES), name="consent_events_outcome_check"),
        CheckConstraint(_in("source", CONSENT_SOURCES), name="consent_events_source_check"),
        Index("idx_consent_events_account_occurred", "whatsapp_account_id", "occurred_at"),
        Index("idx_consent_events_user_id", "user_id"),
    )

    id: uuid.UUID | None = uuid_pk()
    user_id: uuid.UUID = fk("auth.users.id", ondelete="CASCADE", name="consent_events_user_id_fkey")
    whatsapp_account_id: uuid.UUID = fk(
        "whatsapp_accounts.id", ondelete="CASCADE", name="consent_events_whatsapp_account_id_fkey"
    )
    intent: str = text_col(nullable=False)
    outcome: str = text_col(nullable=False)
    keyword: str = text_col(nullable=False)  # the message folded as consent.py compares it
    previous_status: str = text_col(nullable=False)
    new_status: str = text_col(nullable=False)
    inbound_external_id: str = text_col(nullable=False)
    occurred_at: datetime = timestamptz(nullable=False)  # when the traveller wrote it
    recorded_at: datetime = timestamptz(default_now=True, nullable=False)
    cancelled_messages: int = int_col(default=0, nullable=False)
    cancelled_jobs: int = int_col(default=0, nullable=False)
    source: str = text_col(nullable=False, default="keyword")


class WebhookReviewItem(SQLModel, table=True):
    """One webhook item for a person to review; what the ingest did is in ``reason``."""

    __tablename__ = "webhook_review_items"
    __table_args__ = (
        # Meta's re-deliveries of the same item are one row.
        UniqueConstraint("kind", "item_key", name="webhook_review_items_item_key"),
        CheckConstraint(_in("kind", REVIEW_KINDS), name="webhook_review_items_kind_check"),
        Index(
            "idx_webhook_review_items_unreviewed",
            "recorded_at",
            postgresql_where=text("reviewed_at IS NULL"),
        ),
    )

    id: uuid.UUID | None = uuid_pk()
    kind: str = text_col(nullable=False)
    # The item's wamid, or for a rejected item the sha256 of its JSON.
    item_key: str = text_col(nullable=False)
    delivery_id: uuid.UUID | None = _delivery_fk("webhook_review_items")
    path: str | None = text_col()  # where in the delivery: entry.0.changes.0.value.statuses.1
    sender: str | None = text_col()  # the traveller's number as Meta gave it, when known
    reason: str = text_col(nullable=False)
    payload: dict[str, Any] = jsonb(nullable=False)  # the item as Meta sent it
    occurred_at: datetime | None = timestamptz()  # the item's own timestamp, when valid
    recorded_at: datetime = timestamptz(default_now=True, nullable=False)
    reviewed_at: datetime | None = timestamptz()
