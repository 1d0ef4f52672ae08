"""Several business phone numbers: ``whatsapp_senders`` and each message's sender.

Row-level security is enabled with no policy, like the template catalog: tripcast (the
owner) and the service role read and write it. ``whatsapp_messages`` gains
``sender_phone_number_id`` (the number that sent an outbound message, or received an
inbound one) and a partial index to find a traveller's latest conversation per number.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)
# The business-initiated sends the messaging limit counts (tripcast.senders.limits).
TEMPLATE_REACH = (
    "direction = 'outbound'::text AND message_type = 'template'::text "
    "AND send_started_at IS NOT NULL"
)


def _listed(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'::text" for value in values)
    return f"{column} = ANY (ARRAY[{listed}])"


def upgrade() -> None:
    op.create_table(
        "whatsapp_senders",
        sa.Column("phone_number_id", sa.Text, primary_key=True),
        sa.Column("waba_id", sa.Text),
        sa.Column("display_number", sa.Text),
        sa.Column(
            "markets", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'::text[]")
        ),
        sa.Column("send_rate", sa.Double),
        sa.Column("messaging_limit_tier", sa.Text),
        sa.Column(
            "quality_rating", sa.Text, nullable=False, server_default=sa.text("'UNKNOWN'::text")
        ),
        sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'active'::text")),
        sa.Column("paused_reason", sa.Text),
        sa.Column("created_at", TIMESTAMPTZ, server_default=sa.text("now()")),
        sa.Column("updated_at", TIMESTAMPTZ, server_default=sa.text("now()")),
        sa.CheckConstraint(
            _listed("quality_rating", ("GREEN", "YELLOW", "RED", "UNKNOWN")),
            name="whatsapp_senders_quality_check",
        ),
        sa.CheckConstraint(
            _listed("status", ("active", "paused", "restricted", "disabled")),
            name="whatsapp_senders_status_check",
        ),
        sa.CheckConstraint(
            "send_rate IS NULL OR send_rate > 0::double precision",
            name="whatsapp_senders_send_rate_check",
        ),
    )
    op.execute("alter table public.whatsapp_senders enable row level security")
    op.execute("grant select, insert, update, delete on public.whatsapp_senders to service_role")
    op.add_column("whatsapp_messages", sa.Column("sender_phone_number_id", sa.Text))
    op.create_index(
        "idx_whatsapp_messages_account_sender",
        "whatsapp_messages",
        ["whatsapp_account_id", sa.text("created_at DESC")],
        postgresql_where=sa.text("sender_phone_number_id IS NOT NULL"),
    )
    op.create_index(
        "idx_whatsapp_messages_template_reach",
        "whatsapp_messages",
        [sa.text("coalesce(sent_at, send_started_at)")],
        postgresql_where=sa.text(TEMPLATE_REACH),
    )


def downgrade() -> None:
    op.drop_index("idx_whatsapp_messages_template_reach", "whatsapp_messages")
    op.drop_index("idx_whatsapp_messages_account_sender", "whatsapp_messages")
    op.drop_column("whatsapp_messages", "sender_phone_number_id")
    op.drop_table("whatsapp_senders")
