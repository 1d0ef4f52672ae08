"""Phone verification: attempt and re-send bookkeeping, and codes kept from travellers.

Columns on whatsapp_accounts (reasons on the model, tripcast/models/accounts.py):
``verification_attempts`` (wrong codes against the current one), ``verification_sends``
(codes sent within the last hour, for the re-send throttle) and ``verified_at``.

The guard trigger of 0003 is widened to these columns and to ``phone_number`` /
``country_code``: a traveller who could reset their attempt counter could guess all
six-digit codes, and one who could change their number under RLS would keep
``is_verified`` for a number nobody proved. Numbers change through verification only.

A restrictive policy hides authentication messages (``metadata.category =
'authentication'``) from travellers: the outbox row carries the code for the Cloud API,
and a traveller reading it could verify a number they do not own.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)

GUARD = """
create or replace function public.tripcast_guard_account_verification() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user in ('authenticated', 'anon') and (
       new.is_verified is distinct from old.is_verified
    or new.verification_code is distinct from old.verification_code
    or new.verification_expires_at is distinct from old.verification_expires_at
    {extra}
  ) then
    raise exception '{columns} are set by phone verification only'
      using errcode = '42501';
  end if;
  return new;
end;
$$;
"""

WIDENED_GUARD = GUARD.format(
    extra="""or new.verification_attempts is distinct from old.verification_attempts
    or new.verification_sends is distinct from old.verification_sends
    or new.verified_at is distinct from old.verified_at
    or new.phone_number is distinct from old.phone_number
    or new.country_code is distinct from old.country_code""",
    columns="phone_number, country_code, is_verified, verified_at and verification_*",
)
# Revision 0003's function, restored on downgrade.
ORIGINAL_GUARD = GUARD.format(
    extra="", columns="is_verified, verification_code and verification_expires_at"
)

HIDE_CODES = """
create policy "Travellers cannot read verification code messages"
  on public.whatsapp_messages as restrictive for select
  to authenticated, anon
  using ( coalesce(metadata ->> 'category', '') <> 'authentication' );
"""


def upgrade() -> None:
    op.add_column(
        "whatsapp_accounts",
        sa.Column("verification_attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    )
    op.add_column("whatsapp_accounts", sa.Column("verification_sends", sa.ARRAY(TIMESTAMPTZ)))
    op.add_column("whatsapp_accounts", sa.Column("verified_at", TIMESTAMPTZ))
    op.execute(WIDENED_GUARD)
    op.execute(HIDE_CODES)


def downgrade() -> None:
    op.execute(
        'drop policy "Travellers cannot read verification code messages" '
        "on public.whatsapp_messages"
    )
    op.execute(ORIGINAL_GUARD)
    for column in ("verified_at", "verification_sends", "verification_attempts"):
        op.drop_column("whatsapp_accounts", column)
