"""The six Stage 5 tables, verbatim from the seed specification.

The DDL below is the seed's own text, so every column, type, default, check, foreign key
and index is exactly the seed's. tripcast's additions come in later revisions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEED_DDL = """
create table public.whatsapp_accounts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid unique not null references auth.users(id) on delete cascade,
  phone_number text unique not null,
  country_code text not null,
  is_verified boolean default false,
  verification_code text,
  verification_expires_at timestamptz,
  opt_in_status text not null default 'pending' check (opt_in_status in ('pending', 'opted_in', 'opted_out')),
  opted_in_at timestamptz,
  opted_out_at timestamptz,
  metadata jsonb default '{}'::jsonb,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

create index idx_whatsapp_accounts_user_id on public.whatsapp_accounts(user_id);
create index idx_whatsapp_accounts_phone on public.whatsapp_accounts(phone_number);

create table public.whatsapp_messages (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users(id) on delete cascade,
  whatsapp_account_id uuid not null references public.whatsapp_accounts(id) on delete cascade,
  trip_id uuid references public.trips(id) on delete cascade,
  direction text not null check (direction in ('outbound', 'inbound')),
  message_type text not null check (message_type in ('text', 'image', 'location', 'template')),
  content text not null,
  media_url text,
  external_id text unique, -- WhatsApp API message ID
  status text not null default 'pending' check (status in ('pending', 'sent', 'delivered', 'read', 'failed')),
  delivered_at timestamptz,
  read_at timestamptz,
  failed_reason text,
  retry_count integer default 0,
  metadata jsonb default '{}'::jsonb,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

create index idx_whatsapp_messages_user_id on public.whatsapp_messages(user_id);
create index idx_whatsapp_messages_account_id on public.whatsapp_messages(whatsapp_account_id);
create index idx_whatsapp_messages_trip_id on public.whatsapp_messages(trip_id);
create index idx_whatsapp_messages_status on public.whatsapp_messages(status);
create index idx_whatsapp_messages_created_at on public.whatsapp_messages(created_at desc);

create table public.notification_preferences (
  id uuid primary key default gen_random_uuid(),
  user_id uuid unique not null references auth.users(id) on delete cascade,
  trip_reminders boolean default true,
  booking_confirmations boolean default true,
  itinerary_updates boolean default true,
  budget_alerts boolean default true,
  ai_suggestions boolean default true,
  collaborator_updates boolean default true,
  marketing boolean default false,
  quiet_hours_enabled boolean default false,
  quiet_hours_start time,
  quiet_hours_end time,
  timezone text default 'UTC',
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

create index idx_notification_preferences_user_id on public.notification_preferences(user_id);

create table public.automation_rules (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users(id) on delete cascade,
  name text not null,
  description text,
  trigger_type text not null check (trigger_type in ('trip_start', 'trip_end', 'booking_pending', 'budget_exceeded', 'schedule')),
  trigger_config jsonb not null,
  action_type text not null check (action_type in ('send_whatsapp', 'send_email', 'run_ai_agent', 'update_trip')),
  action_config jsonb not null,
  is_active boolean default true,
  last_triggered_at timestamptz,
  metadata jsonb default '{}'::jsonb,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

create index idx_automation_rules_user_id on public.automation_rules(user_id);
create index idx_automation_rules_active on public.automation_rules(is_active) where is_active = true;

create table public.scheduled_jobs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users(id) on delete cascade,
  automation_rule_id uuid references public.automation_rules(id) on delete cascade,
  trip_id uuid references public.trips(id) on delete cascade,
  job_type text not null,
  scheduled_for timestamptz not null,
  status text not null default 'pending' check (status in ('pending', 'running', 'completed', 'failed', 'cancelled')),
  result jsonb,
  error_message text,
  executed_at timestamptz,
  created_at timestamptz default now()
);

create index idx_scheduled_jobs_user_id on public.scheduled_jobs(user_id);
create index idx_scheduled_jobs_scheduled_for on public.scheduled_jobs(scheduled_for);
create index idx_scheduled_jobs_status on public.scheduled_jobs(status);

create table public.delivery_logs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users(id) on delete cascade,
  whatsapp_message_id uuid references public.whatsapp_messages(id) on delete set null,
  channel text not null check (channel in ('whatsapp', 'email', 'push', 'sms')),
  recipient text not null,
  status text not null check (status in ('sent', 'delivered', 'failed', 'bounced')),
  provider_response jsonb,
  error_message text,
  delivered_at timestamptz,
  created_at timestamptz default now()
);

create index idx_delivery_logs_user_id on public.delivery_logs(user_id);
create index idx_delivery_logs_whatsapp_message_id on public.delivery_logs(whatsapp_message_id);
create index idx_delivery_logs_status on public.delivery_logs(status);
"""

SEED_TABLES = [
    "delivery_logs",
    "scheduled_jobs",
    "automation_rules",
    "notification_preferences",
    "whatsapp_messages",
    "whatsapp_accounts",
]


def upgrade() -> None:
    op.execute(SEED_DDL)


def downgrade() -> None:
    for table in SEED_TABLES:
        op.execute(f"DROP TABLE public.{table}")
