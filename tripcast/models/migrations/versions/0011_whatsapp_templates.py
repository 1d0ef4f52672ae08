"""The WhatsApp template catalog (``whatsapp_templates``).

One row per template name and language, as ``GET /{waba_id}/message_templates`` lists
them, kept current by the template webhooks. Row-level security is enabled with no
policy: only the owner (tripcast) and the service role (granted here, BYPASSRLS) read
it; ``anon`` and ``authenticated`` see no row even where Supabase grants them the table.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "whatsapp_templates",
        sa.Column("id", sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("category", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("quality", sa.Text),
        sa.Column("components", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("waba_id", sa.Text),
        sa.Column("meta_template_id", sa.Text),
        sa.Column("status_reason", sa.Text),
        sa.Column("created_at", TIMESTAMPTZ, server_default=sa.text("now()")),
        sa.Column("updated_at", TIMESTAMPTZ, server_default=sa.text("now()")),
        sa.UniqueConstraint("name", "language", name="whatsapp_templates_name_language_key"),
    )
    op.execute("alter table public.whatsapp_templates enable row level security")
    # Supabase grants this (and more, to every role) on any new public table; standalone
    # databases get the service role's share. RLS without a policy keeps the rest out.
    op.execute("grant select, insert, update, delete on public.whatsapp_templates to service_role")


def downgrade() -> None:
    op.drop_table("whatsapp_templates")
