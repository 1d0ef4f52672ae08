"""What Meta said each message costs (``whatsapp_message_pricing``).

One row per outbound message, from the first status receipt carrying ``pricing``.
Row-level security is enabled with no policy, like the template catalog: tripcast (the
owner) and the service role read it; travellers do not.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "whatsapp_message_pricing",
        sa.Column(
            "message_id",
            sa.Uuid,
            sa.ForeignKey(
                "whatsapp_messages.id",
                ondelete="CASCADE",
                name="whatsapp_message_pricing_message_id_fkey",
            ),
            primary_key=True,
        ),
        sa.Column("wamid", sa.Text, nullable=False),
        sa.Column("billable", sa.Boolean, nullable=False),
        sa.Column("pricing_model", sa.Text),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("pricing_type", sa.Text),
        sa.Column("conversation_id", sa.Text),
        sa.Column("conversation_origin", sa.Text),
        sa.Column("conversation_expires_at", TIMESTAMPTZ),
        sa.Column("destination_country", sa.Text, nullable=False),
        sa.Column("priced_at", TIMESTAMPTZ, nullable=False),
        sa.Column("recorded_at", TIMESTAMPTZ, server_default=sa.text("now()")),
    )
    op.create_index(
        "idx_whatsapp_message_pricing_priced_at", "whatsapp_message_pricing", ["priced_at"]
    )
    op.execute("alter table public.whatsapp_message_pricing enable row level security")
    op.execute(
        "grant select, insert, update, delete on public.whatsapp_message_pricing to service_role"
    )


def downgrade() -> None:
    op.drop_table("whatsapp_message_pricing")
