"""WhatsApp identity: business-scoped user IDs, usernames, Meta's consent signals.

- ``whatsapp_accounts.bsuid`` (unique when set) and ``username``: the traveller's
  business-scoped user ID and WhatsApp username, learned from webhooks that carry them
  with the phone number.
- ``webhook_unknown_senders``: ``sender`` may be absent (a sender known only by BSUID);
  ``sender_user_id`` keeps the BSUID and ``whatsapp_account_id`` / ``linked_at`` say
  which account the row was linked to once its BSUID became known.
- ``consent_events.source``: ``keyword`` (STOP / START), ``user_preferences`` (Meta's
  webhook) or ``error_131050`` (a send refused because the traveller stopped marketing).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)
SOURCES = ("keyword", "user_preferences", "error_131050")


def upgrade() -> None:
    op.add_column("whatsapp_accounts", sa.Column("bsuid", sa.Text))
    op.add_column("whatsapp_accounts", sa.Column("username", sa.Text))
    op.create_unique_constraint("whatsapp_accounts_bsuid_key", "whatsapp_accounts", ["bsuid"])
    op.alter_column("webhook_unknown_senders", "sender", nullable=True)
    op.add_column("webhook_unknown_senders", sa.Column("sender_user_id", sa.Text))
    op.add_column(
        "webhook_unknown_senders",
        sa.Column(
            "whatsapp_account_id",
            sa.Uuid,
            sa.ForeignKey(
                "whatsapp_accounts.id",
                ondelete="SET NULL",
                name="webhook_unknown_senders_whatsapp_account_id_fkey",
            ),
        ),
    )
    op.add_column("webhook_unknown_senders", sa.Column("linked_at", TIMESTAMPTZ))
    op.create_index(
        "idx_webhook_unknown_senders_user_id", "webhook_unknown_senders", ["sender_user_id"]
    )
    op.add_column(
        "consent_events",
        sa.Column("source", sa.Text, nullable=False, server_default=sa.text("'keyword'::text")),
    )
    listed = ", ".join(f"'{source}'::text" for source in SOURCES)
    op.create_check_constraint(
        "consent_events_source_check", "consent_events", f"source = ANY (ARRAY[{listed}])"
    )


def downgrade() -> None:
    op.drop_constraint("consent_events_source_check", "consent_events", type_="check")
    op.drop_column("consent_events", "source")
    op.drop_index("idx_webhook_unknown_senders_user_id", "webhook_unknown_senders")
    op.drop_column("webhook_unknown_senders", "linked_at")
    op.drop_column("webhook_unknown_senders", "whatsapp_account_id")
    op.drop_column("webhook_unknown_senders", "sender_user_id")
    op.execute("DELETE FROM public.webhook_unknown_senders WHERE sender IS NULL")
    op.alter_column("webhook_unknown_senders", "sender", nullable=False)
    op.drop_constraint("whatsapp_accounts_bsuid_key", "whatsapp_accounts", type_="unique")
    op.drop_column("whatsapp_accounts", "username")
    op.drop_column("whatsapp_accounts", "bsuid")
