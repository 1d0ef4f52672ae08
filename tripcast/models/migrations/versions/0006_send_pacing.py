"""Send pacing: the shared schedule that keeps all dispatchers under TRIPCAST_SEND_RATE.

Row-level security is enabled with no policy: on Supabase a new public table is granted
to ``anon`` and ``authenticated``, and anyone able to push ``next_slot_at`` far ahead
would stop every send. Only the owner (tripcast) and the service role use the table.

Also a small partial index on the outbox rows a dispatcher currently leases, so that the
attempts of a worker that died mid-batch are found without scanning the table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_pacing",
        sa.Column("phone_number_id", sa.Text, primary_key=True),
        sa.Column("next_slot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    )
    op.execute("alter table public.send_pacing enable row level security")
    op.create_index(
        "idx_whatsapp_messages_dispatch_leased",
        "whatsapp_messages",
        ["lease_expires_at"],
        postgresql_where=sa.text("lease_owner IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("idx_whatsapp_messages_dispatch_leased", "whatsapp_messages")
    op.drop_table("send_pacing")
