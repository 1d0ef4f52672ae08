"""Travellers cannot open their own 24-hour window; realtime events identify nobody.

``whatsapp_accounts.last_inbound_at`` starts the customer-service window, in which
dispatch sends free text instead of an approved template. Only an inbound WhatsApp
message (the webhook ingest, running as the owner) may move it: the guard trigger of
0003 / 0007 now refuses it to ``authenticated`` and ``anon`` like the verification
columns. The other columns a traveller may update are theirs under the seed (opt-in
status and its timestamps, metadata): the seed lets the app manage them.

``pg_notify`` is not covered by row-level security: any role that can connect may
``LISTEN``. The ``tripcast_whatsapp_messages`` payload now carries only the message id,
the operation, direction, status and category (when the message has one); a reader
fetches the row by id under its own row-level security.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_VERIFICATION_CHANGED = """
       new.is_verified is distinct from old.is_verified
    or new.verification_code is distinct from old.verification_code
    or new.verification_expires_at is distinct from old.verification_expires_at
    or new.verification_attempts is distinct from old.verification_attempts
    or new.verification_sends is distinct from old.verification_sends
    or new.verified_at is distinct from old.verified_at
    or new.phone_number is distinct from old.phone_number
    or new.country_code is distinct from old.country_code"""

GUARD = """
create or replace function public.tripcast_guard_account_verification() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user not in ('authenticated', 'anon') then
    return new;
  end if;
  if {verification} then
    raise exception 'phone_number, country_code, is_verified, verified_at and verification_* are set by phone verification only'
      using errcode = '42501';
  end if;
  {window}
  return new;
end;
$$;
"""

WINDOW = """if new.last_inbound_at is distinct from old.last_inbound_at then
    raise exception 'last_inbound_at is set by the traveller''s inbound WhatsApp messages only'
      using errcode = '42501';
  end if;"""

WITH_WINDOW = GUARD.format(verification=_VERIFICATION_CHANGED, window=WINDOW)
# Revision 0007's function (same checks, without the window), restored on downgrade.
WITHOUT_WINDOW = GUARD.format(verification=_VERIFICATION_CHANGED, window="")

NOTIFY = """
create or replace function public.tripcast_notify_whatsapp_message() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_notify('tripcast_whatsapp_messages', {payload}::text);
  return new;
end;
$$;
"""

# Nothing that identifies a traveller (user, trip, account, wamid, text, reason).
ANONYMOUS_NOTIFY = NOTIFY.format(
    payload="""json_strip_nulls(json_build_object(
    'op', tg_op,
    'id', new.id,
    'direction', new.direction,
    'status', new.status,
    'category', new.metadata ->> 'category'
  ))"""
)
# Revision 0004's payload, restored on downgrade.
ORIGINAL_NOTIFY = NOTIFY.format(
    payload="""json_build_object(
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
  )"""
)


def upgrade() -> None:
    op.execute(WITH_WINDOW)
    op.execute(ANONYMOUS_NOTIFY)


def downgrade() -> None:
    op.execute(ORIGINAL_NOTIFY)
    op.execute(WITHOUT_WINDOW)
