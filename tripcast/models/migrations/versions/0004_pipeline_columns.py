"""tripcast's pipeline columns and indexes, realtime publication and notifications.

Each added column carries its reason on the model (tripcast/models/*.py). In short:
dedupe keys make planning and queueing at-most-once per occurrence; leases let a
crashed worker's claims be reclaimed; next_attempt_at gives every pending message a
time; send_started_at marks sends that may be in doubt; error_code keeps Meta's code.

Realtime: Supabase publishes whatsapp_messages through ``supabase_realtime`` (added when
the publication exists, created otherwise), and every insert or update is also sent with
``pg_notify`` on channel ``tripcast_whatsapp_messages`` for plain-Postgres listeners.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)


def new_columns() -> dict[str, list[sa.Column]]:
    # Fresh Column objects per call: alembic binds each to a table when adding it.
    return {
        "whatsapp_accounts": [sa.Column("last_inbound_at", TIMESTAMPTZ)],
        "whatsapp_messages": [
            sa.Column("dedupe_key", sa.Text),
            sa.Column("scheduled_job_id", sa.Uuid),
            sa.Column("next_attempt_at", TIMESTAMPTZ),
            sa.Column("lease_owner", sa.Text),
            sa.Column("lease_expires_at", TIMESTAMPTZ),
            sa.Column("send_started_at", TIMESTAMPTZ),
            sa.Column("sent_at", TIMESTAMPTZ),
            sa.Column("failed_at", TIMESTAMPTZ),
            sa.Column("error_code", sa.Integer),
        ],
        "automation_rules": [
            sa.Column("last_error", sa.Text),
            sa.Column("last_error_at", TIMESTAMPTZ),
        ],
        "scheduled_jobs": [
            sa.Column("dedupe_key", sa.Text),
            sa.Column("payload", JSONB),
            sa.Column("lease_owner", sa.Text),
            sa.Column("lease_expires_at", TIMESTAMPTZ),
            sa.Column("attempts", sa.Integer, server_default=sa.text("0")),
        ],
        "delivery_logs": [
            sa.Column("attempt", sa.Integer),
            sa.Column("error_code", sa.Integer),
        ],
    }


REALTIME = """
do $$
begin
  if exists (select from pg_publication where pubname = 'supabase_realtime') then
    alter publication supabase_realtime add table public.whatsapp_messages;
  else
    create publication supabase_realtime for table public.whatsapp_messages;
  end if;
end $$;
"""

# The payload stays small (pg_notify caps it at 8000 bytes): ids and state, never content.
NOTIFY = """
create function public.tripcast_notify_whatsapp_message() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_notify('tripcast_whatsapp_messages', json_build_object(
    'op', tg_op,
    'id', new.id,
    'user_id', new.user_id,
    'trip_id', new.trip_id,
    'direction', new.direction,
    'message_type', new.message_type,
    'status', new.status,
    'external_id', new.external_id,
    'failed_reason', left(new.failed_reason, 200),
    'updated_at', new.updated_at
  )::text);
  return new;
end;
$$;

create trigger whatsapp_messages_notify
  after insert or update on public.whatsapp_messages
  for each row execute function public.tripcast_notify_whatsapp_message();
"""


def upgrade() -> None:
    for table, columns in new_columns().items():
        for column in columns:
            op.add_column(table, column, schema="public")
    op.create_unique_constraint(
        "whatsapp_messages_dedupe_key_key", "whatsapp_messages", ["dedupe_key"]
    )
    op.create_foreign_key(
        "whatsapp_messages_scheduled_job_id_fkey",
        "whatsapp_messages",
        "scheduled_jobs",
        ["scheduled_job_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_unique_constraint("scheduled_jobs_dedupe_key_key", "scheduled_jobs", ["dedupe_key"])
    op.create_index(
        "idx_whatsapp_messages_dispatch_due",
        "whatsapp_messages",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'::text AND direction = 'outbound'::text"),
    )
    op.create_index(
        "idx_scheduled_jobs_claimable",
        "scheduled_jobs",
        ["scheduled_for"],
        postgresql_where=sa.text("status = ANY (ARRAY['pending'::text, 'running'::text])"),
    )
    op.execute(REALTIME)
    op.execute(NOTIFY)


def downgrade() -> None:
    op.execute("drop trigger whatsapp_messages_notify on public.whatsapp_messages")
    op.execute("drop function public.tripcast_notify_whatsapp_message()")
    op.execute(
        "do $$ begin if exists (select from pg_publication_tables where pubname = "
        "'supabase_realtime' and tablename = 'whatsapp_messages') then alter publication "
        "supabase_realtime drop table public.whatsapp_messages; end if; end $$"
    )
    op.drop_index("idx_scheduled_jobs_claimable", "scheduled_jobs")
    op.drop_index("idx_whatsapp_messages_dispatch_due", "whatsapp_messages")
    for table, columns in new_columns().items():
        for column in columns:
            op.drop_column(table, column.name, schema="public")
