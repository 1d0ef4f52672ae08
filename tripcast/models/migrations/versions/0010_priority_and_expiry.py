"""Time to send: a priority class per outbound message, an expiry, and the claim's index.

``priority`` is generated from ``metadata ->> 'category'`` (authentication 0, utility 1,
service 2, marketing 3; absent or unknown: utility), so a row written by the application
with only the seed's columns gets one without anyone filling it in, and a category
changed later moves the row to its new class.

``expires_at``: a message still unsent then is never sent. A row inserted without one gets
the category's default from a trigger (authentication: created + 10 min, marketing:
created + 24 h; others none), so the application's own inserts are covered too.

``idx_whatsapp_messages_dispatch_queue`` replaces ``idx_whatsapp_messages_dispatch_due``:
the claim walks it class by class, due rows oldest first (a row without
``next_attempt_at`` is due since it was inserted, sorted first). A second partial index
finds pending rows that carry an expiry, for the expiry pass before each claim.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PENDING_OUTBOUND = "status = 'pending'::text AND direction = 'outbound'::text"

PRIORITY = (
    "CASE metadata ->> 'category' WHEN 'authentication' THEN 0 WHEN 'service' THEN 2 "
    "WHEN 'marketing' THEN 3 ELSE 1 END"
)

DEFAULT_EXPIRY = """
create function public.tripcast_default_message_expiry() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- a BEFORE trigger sees no generated column yet, hence the category itself
  if new.expires_at is null and new.direction = 'outbound' then
    new.expires_at := coalesce(new.created_at, now()) + case new.metadata ->> 'category'
      when 'authentication' then interval '10 minutes'
      when 'marketing' then interval '24 hours'
    end;
  end if;
  return new;
end;
$$;

create trigger whatsapp_messages_default_expiry
  before insert on public.whatsapp_messages
  for each row execute function public.tripcast_default_message_expiry();
"""


def upgrade() -> None:
    op.add_column(
        "whatsapp_messages", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "whatsapp_messages",
        sa.Column("priority", sa.SmallInteger, sa.Computed(PRIORITY, persisted=True)),
    )
    op.execute(DEFAULT_EXPIRY)
    op.drop_index("idx_whatsapp_messages_dispatch_due", "whatsapp_messages")
    op.create_index(
        "idx_whatsapp_messages_dispatch_queue",
        "whatsapp_messages",
        [
            "priority",
            sa.text("coalesce(next_attempt_at, '-infinity'::timestamp with time zone)"),
            "created_at",
        ],
        postgresql_where=sa.text(PENDING_OUTBOUND),
    )
    op.create_index(
        "idx_whatsapp_messages_pending_expiry",
        "whatsapp_messages",
        ["expires_at"],
        postgresql_where=sa.text(f"{PENDING_OUTBOUND} AND expires_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("idx_whatsapp_messages_pending_expiry", "whatsapp_messages")
    op.drop_index("idx_whatsapp_messages_dispatch_queue", "whatsapp_messages")
    op.create_index(
        "idx_whatsapp_messages_dispatch_due",
        "whatsapp_messages",
        ["next_attempt_at"],
        postgresql_where=sa.text(PENDING_OUTBOUND),
    )
    op.execute("drop trigger whatsapp_messages_default_expiry on public.whatsapp_messages")
    op.execute("drop function public.tripcast_default_message_expiry()")
    op.drop_column("whatsapp_messages", "priority")
    op.drop_column("whatsapp_messages", "expires_at")
