"""Row-level security: the seed's policies verbatim, then tripcast's additions.

Additions (DESIGN §2): RLS on scheduled_jobs and delivery_logs too, with users reading
only their own rows; a user can never set is_verified, verification_code or
verification_expires_at on their own account (only the verification flow, running as
the table owner or service role, may). Supabase's table grants are reproduced so the
policies, not missing privileges, are what limit ``anon`` and ``authenticated``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SEED_TABLES = (
    "whatsapp_accounts",
    "whatsapp_messages",
    "notification_preferences",
    "automation_rules",
    "scheduled_jobs",
    "delivery_logs",
)

SEED_POLICIES = """
alter table public.whatsapp_accounts enable row level security;

create policy "Users can view their own WhatsApp account"
  on public.whatsapp_accounts for select
  to authenticated
  using ( user_id = auth.uid() );

create policy "Users can update their own WhatsApp account"
  on public.whatsapp_accounts for update
  to authenticated
  using ( user_id = auth.uid() )
  with check ( user_id = auth.uid() );

alter table public.whatsapp_messages enable row level security;

create policy "Users can view their own messages"
  on public.whatsapp_messages for select
  to authenticated
  using ( user_id = auth.uid() );

alter table public.notification_preferences enable row level security;

create policy "Users can view their own preferences"
  on public.notification_preferences for select
  to authenticated
  using ( user_id = auth.uid() );

create policy "Users can update their own preferences"
  on public.notification_preferences for update
  to authenticated
  using ( user_id = auth.uid() )
  with check ( user_id = auth.uid() );

alter table public.automation_rules enable row level security;

create policy "Users can manage their own automation rules"
  on public.automation_rules for all
  to authenticated
  using ( user_id = auth.uid() )
  with check ( user_id = auth.uid() );
"""

OWN_ROWS_POLICIES = """
alter table public.scheduled_jobs enable row level security;

create policy "Users can view their own scheduled jobs"
  on public.scheduled_jobs for select
  to authenticated
  using ( user_id = auth.uid() );

alter table public.delivery_logs enable row level security;

create policy "Users can view their own delivery logs"
  on public.delivery_logs for select
  to authenticated
  using ( user_id = auth.uid() );
"""

# Column privileges would be undone by Supabase's habit of granting ALL on public tables,
# so the guard is a trigger keyed on the role the request runs as.
NO_SELF_VERIFY = """
create function public.tripcast_guard_account_verification() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user in ('authenticated', 'anon') and (
       new.is_verified is distinct from old.is_verified
    or new.verification_code is distinct from old.verification_code
    or new.verification_expires_at is distinct from old.verification_expires_at
  ) then
    raise exception 'is_verified, verification_code and verification_expires_at are set by phone verification only'
      using errcode = '42501';
  end if;
  return new;
end;
$$;

create trigger whatsapp_accounts_guard_verification
  before update on public.whatsapp_accounts
  for each row execute function public.tripcast_guard_account_verification();
"""


_TABLE_LIST = ", ".join(f"public.{table}" for table in SEED_TABLES)
SUPABASE_GRANTS = f"""
grant usage on schema public to anon, authenticated, service_role;
grant select, insert, update, delete on {_TABLE_LIST} to anon, authenticated, service_role;
"""


def upgrade() -> None:
    op.execute(SUPABASE_GRANTS)
    op.execute(SEED_POLICIES)
    op.execute(OWN_ROWS_POLICIES)
    op.execute(NO_SELF_VERIFY)


def downgrade() -> None:
    op.execute("drop trigger whatsapp_accounts_guard_verification on public.whatsapp_accounts")
    op.execute("drop function public.tripcast_guard_account_verification()")
    policies = op.get_bind().exec_driver_sql(
        "select tablename, policyname from pg_policies where schemaname = 'public' "
        "and tablename = any(%(tables)s)",
        {"tables": list(SEED_TABLES)},
    )
    for table, policy in policies:
        op.execute(f'drop policy "{policy}" on public.{table}')
    for table in SEED_TABLES:
        op.execute(f"alter table public.{table} disable row level security")
    op.execute(
        f"revoke select, insert, update, delete on {_TABLE_LIST} "
        "from anon, authenticated, service_role"
    )
