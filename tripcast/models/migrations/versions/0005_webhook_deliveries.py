"""Webhook deliveries: each POST from Meta stored before it is acknowledged.

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


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("received_at", TIMESTAMPTZ, nullable=False, server_default=sa.text("now()")),
        sa.Column("body_sha256", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'received'::text")),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", TIMESTAMPTZ),
        sa.Column("processed_at", TIMESTAMPTZ),
        sa.Column("last_error", sa.Text),
        sa.UniqueConstraint("body_sha256", name="webhook_deliveries_body_sha256_key"),
        sa.CheckConstraint(
            "status = ANY (ARRAY['received'::text, 'applied'::text, 'partial'::text, "
            "'rejected'::text])",
            name="webhook_deliveries_status_check",
        ),
    )
    op.create_index(
        "idx_webhook_deliveries_unapplied",
        "webhook_deliveries",
        ["received_at"],
        postgresql_where=sa.text("status = ANY (ARRAY['received'::text, 'partial'::text])"),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
