"""Webhook review items: what the ingest could not apply, or should not apply silently.

``webhook_review_items`` keeps, once each (unique on kind and item key): items of a
delivery that can never be applied, with the reason (the rest of the delivery is applied);
a traveller's phone number change (applied to the account, or why not); an identity
change (a new WhatsApp security code) for a person to check; an edit or revoke naming a
message tripcast does not hold. Row-level security is enabled like the other webhook
tables (payloads hold phone numbers and text); tripcast connects as the owner.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)
KINDS = ("rejected_item", "number_changed", "identity_changed", "system", "edit", "revoke")


def upgrade() -> None:
    listed = ", ".join(f"'{kind}'::text" for kind in KINDS)
    op.create_table(
        "webhook_review_items",
        sa.Column("id", sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("item_key", sa.Text, nullable=False),
        sa.Column(
            "delivery_id",
            sa.Uuid,
            sa.ForeignKey(
                "webhook_deliveries.id",
                ondelete="SET NULL",
                name="webhook_review_items_delivery_id_fkey",
            ),
        ),
        sa.Column("path", sa.Text),
        sa.Column("sender", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("occurred_at", TIMESTAMPTZ),
        sa.Column("recorded_at", TIMESTAMPTZ, nullable=False, server_default=sa.text("now()")),
        sa.Column("reviewed_at", TIMESTAMPTZ),
        sa.UniqueConstraint("kind", "item_key", name="webhook_review_items_item_key"),
        sa.CheckConstraint(f"kind = ANY (ARRAY[{listed}])", name="webhook_review_items_kind_check"),
    )
    op.create_index(
        "idx_webhook_review_items_unreviewed",
        "webhook_review_items",
        ["recorded_at"],
        postgresql_where=sa.text("reviewed_at IS NULL"),
    )
    op.execute("alter table public.webhook_review_items enable row level security")


def downgrade() -> None:
    op.drop_table("webhook_review_items")
