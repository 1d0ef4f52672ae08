"""Webhook ingest: deliveries stored before they are acknowledged, and what applying them
leaves behind (unmatched status receipts, unknown senders, consent events).

Row-level security is enabled on every table here: on Supabase, new public tables are
granted to ``anon`` and ``authenticated``, and deliveries hold phone numbers and message
text. tripcast connects as the owner; travellers may read their own consent events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)
TABLES = (
    "webhook_deliveries",
    "webhook_unmatched_statuses",
    "webhook_unknown_senders",
    "consent_events",
)


def _id() -> sa.Column:
    return sa.Column("id", sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()"))


def _now(name: str) -> sa.Column:
    return sa.Column(name, TIMESTAMPTZ, nullable=False, server_default=sa.text("now()"))


def _zero(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, server_default=sa.text("0"))


def _delivery_fk(table: str) -> sa.Column:
    return sa.Column(
        "delivery_id",
        sa.Uuid,
        sa.ForeignKey(
            "webhook_deliveries.id", ondelete="SET NULL", name=f"{table}_delivery_id_fkey"
        ),
    )


def _deliveries() -> None:
    op.create_table(
        "webhook_deliveries",
        _id(),
        _now("received_at"),
        sa.Column("body_sha256", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'received'::text")),
        _zero("item_count"),
        _zero("attempts"),
        sa.Column("next_attempt_at", TIMESTAMPTZ),
        sa.Column("processed_at", TIMESTAMPTZ),
        sa.Column("last_error", sa.Text),
        sa.UniqueConstraint("body_sha256", name="webhook_deliveries_body_sha256_key"),
        sa.CheckConstraint(
            "status = ANY (ARRAY['received'::text, 'applied'::text, 'rejected'::text])",
            name="webhook_deliveries_status_check",
        ),
    )
    for name, column, status in (
        ("unapplied", "received_at", "received"),
        ("applied", "processed_at", "applied"),
    ):
        op.create_index(
            f"idx_webhook_deliveries_{name}",
            "webhook_deliveries",
            [column],
            postgresql_where=sa.text(f"status = '{status}'::text"),
        )


def _unmatched_statuses() -> None:
    op.create_table(
        "webhook_unmatched_statuses",
        _id(),
        sa.Column("wamid", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_at", TIMESTAMPTZ, nullable=False),
        sa.Column("callback_data", sa.Text),
        sa.Column("payload", JSONB, nullable=False),
        _delivery_fk("webhook_unmatched_statuses"),
        sa.Column("state", sa.Text, nullable=False, server_default=sa.text("'waiting'::text")),
        _zero("attempts"),
        _now("first_seen_at"),
        sa.Column("next_attempt_at", TIMESTAMPTZ, nullable=False),
        sa.Column("given_up_at", TIMESTAMPTZ),
        sa.Column("reason", sa.Text),
        sa.UniqueConstraint(
            "wamid", "status", "status_at", name="webhook_unmatched_statuses_receipt_key"
        ),
        sa.CheckConstraint(
            "state = ANY (ARRAY['waiting'::text, 'given_up'::text])",
            name="webhook_unmatched_statuses_state_check",
        ),
    )
    for name, column in (("due", "next_attempt_at"), ("recent", "first_seen_at")):
        op.create_index(
            f"idx_webhook_unmatched_statuses_{name}",
            "webhook_unmatched_statuses",
            [column],
            postgresql_where=sa.text("state = 'waiting'::text"),
        )


def _unknown_senders() -> None:
    op.create_table(
        "webhook_unknown_senders",
        _id(),
        sa.Column("sender", sa.Text, nullable=False),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("message_type", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("intent", sa.Text),
        sa.Column("profile_name", sa.Text),
        sa.Column("phone_number_id", sa.Text),
        sa.Column("sent_at", TIMESTAMPTZ, nullable=False),
        _now("received_at"),
        _delivery_fk("webhook_unknown_senders"),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("reviewed_at", TIMESTAMPTZ),
        sa.UniqueConstraint("external_id", name="webhook_unknown_senders_external_id_key"),
    )
    op.create_index("idx_webhook_unknown_senders_sender", "webhook_unknown_senders", ["sender"])


def _consent_events() -> None:
    op.create_table(
        "consent_events",
        _id(),
        sa.Column(
            "user_id",
            sa.Uuid,
            sa.ForeignKey("auth.users.id", ondelete="CASCADE", name="consent_events_user_id_fkey"),
            nullable=False,
        ),
        sa.Column(
            "whatsapp_account_id",
            sa.Uuid,
            sa.ForeignKey(
                "whatsapp_accounts.id",
                ondelete="CASCADE",
                name="consent_events_whatsapp_account_id_fkey",
            ),
            nullable=False,
        ),
        sa.Column("intent", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("keyword", sa.Text, nullable=False),
        sa.Column("previous_status", sa.Text, nullable=False),
        sa.Column("new_status", sa.Text, nullable=False),
        sa.Column("inbound_external_id", sa.Text, nullable=False),
        sa.Column("occurred_at", TIMESTAMPTZ, nullable=False),
        _now("recorded_at"),
        _zero("cancelled_messages"),
        _zero("cancelled_jobs"),
        sa.UniqueConstraint("inbound_external_id", name="consent_events_inbound_external_id_key"),
        sa.CheckConstraint(
            "intent = ANY (ARRAY['stop'::text, 'start'::text])", name="consent_events_intent_check"
        ),
        sa.CheckConstraint(
            "outcome = ANY (ARRAY['opted_out'::text, 'opted_in'::text, 'unchanged'::text, "
            "'stale'::text])",
            name="consent_events_outcome_check",
        ),
    )
    op.create_index(
        "idx_consent_events_account_occurred",
        "consent_events",
        ["whatsapp_account_id", "occurred_at"],
    )
    op.create_index("idx_consent_events_user_id", "consent_events", ["user_id"])


CONSENT_POLICY = """
grant select on public.consent_events to authenticated;
create policy "Users can view their own consent events"
  on public.consent_events for select
  to authenticated
  using ( user_id = auth.uid() );
"""


def upgrade() -> None:
    _deliveries()
    _unmatched_statuses()
    _unknown_senders()
    _consent_events()
    for table in TABLES:
        op.execute(f"alter table public.{table} enable row level security")
    op.execute(CONSENT_POLICY)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
