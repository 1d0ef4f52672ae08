"""Phone verification on the account row: lock, issue, confirm, the code messages.

Every step runs in one transaction that starts by locking the traveller's account row
(``FOR UPDATE``), so concurrent starts and confirms for one account queue up: the
throttle and the attempt counter cannot be raced past. tripcast runs these as the table
owner; the guard trigger refuses the same writes from ``authenticated`` / ``anon``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection
from sqlmodel import select

from tripcast.models.accounts import WhatsAppAccount
from tripcast.models.engine import typed_rows
from tripcast.models.messages import OutboundMessageCreate
from tripcast.outbox import write_outbound
from tripcast.verification import codes

PHONE_HOLDER = """
SELECT is_verified IS TRUE FROM public.whatsapp_accounts
WHERE phone_number = %(phone)s AND user_id <> %(user_id)s
"""

# ON CONFLICT (user_id): a concurrent start for the same traveller created it first;
# the caller then locks that row like any existing account.
CREATE_ACCOUNT = """
INSERT INTO public.whatsapp_accounts (user_id, phone_number, country_code)
VALUES (%(user_id)s, %(phone)s, %(country)s)
ON CONFLICT (user_id) DO NOTHING
"""

# A new number is unproven: not verified, and an opted-in traveller is back to pending
# until they confirm it (dispatch sends only verification codes to accounts not opted
# in), so nothing else reaches a number nobody proved. An opted-out traveller stays
# opted out until they confirm.
ISSUE_CODE = """
UPDATE public.whatsapp_accounts
SET opt_in_status = CASE WHEN phone_number <> %(phone)s AND opt_in_status = 'opted_in'
                         THEN 'pending' ELSE opt_in_status END,
    phone_number = %(phone)s, country_code = %(country)s,
    is_verified = false, verified_at = NULL,
    verification_code = %(code_hash)s, verification_expires_at = %(expires_at)s,
    verification_attempts = 0, verification_sends = %(sends)s, updated_at = now()
WHERE id = %(account_id)s
"""

# Once a code is replaced, used or void, its messages are retired: unsent ones are
# cancelled (one live code at a time reaches the phone) and the code is blanked out of
# the stored template. Rows whose send is in flight belong to dispatch and are left.
RETIRE_CODE_MESSAGES = """
UPDATE public.whatsapp_messages AS m
SET status = CASE WHEN m.status = 'pending' THEN 'failed' ELSE m.status END,
    failed_at = CASE WHEN m.status = 'pending' THEN %(now)s ELSE m.failed_at END,
    failed_reason = CASE WHEN m.status = 'pending' THEN %(reason)s ELSE m.failed_reason END,
    metadata = jsonb_set(m.metadata, '{template,components}', %(redacted)s::jsonb),
    updated_at = now()
WHERE m.whatsapp_account_id = %(account_id)s AND m.direction = 'outbound'
  AND m.metadata ->> 'category' = 'authentication'
  AND NOT (m.status = 'pending' AND m.send_started_at IS NOT NULL)
  AND (m.status = 'pending'
       OR m.metadata -> 'template' -> 'components' IS DISTINCT FROM %(redacted)s::jsonb)
RETURNING m.id
"""

MARK_VERIFIED = """
UPDATE public.whatsapp_accounts
SET is_verified = true, verified_at = %(now)s, opt_in_status = 'opted_in',
    opted_in_at = %(now)s, verification_code = NULL, verification_expires_at = NULL,
    verification_attempts = 0, updated_at = now()
WHERE id = %(account_id)s
"""

# The attempt that reaches the limit voids the code in the same statement.
RECORD_WRONG_CODE = """
UPDATE public.whatsapp_accounts
SET verification_attempts = verification_attempts + 1,
    verification_code = CASE WHEN verification_attempts + 1 >= %(max_attempts)s
                             THEN NULL ELSE verification_code END,
    verification_expires_at = CASE WHEN verification_attempts + 1 >= %(max_attempts)s
                                   THEN NULL ELSE verification_expires_at END,
    updated_at = now()
WHERE id = %(account_id)s
RETURNING verification_attempts
"""


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    phone_number: str
    is_verified: bool
    opt_in_status: str
    code_hash: str | None
    expires_at: datetime | None
    attempts: int
    sends: list[datetime]


def lock_account(connection: Connection, user_id: uuid.UUID) -> Account | None:
    statement = select(WhatsAppAccount).where(WhatsAppAccount.user_id == user_id).with_for_update()
    found = typed_rows(connection, statement)
    if not found:
        return None
    (row,) = found  # one account per user (a unique key)
    assert row.id is not None
    return Account(
        id=row.id,
        phone_number=row.phone_number,
        is_verified=row.is_verified is True,
        opt_in_status=row.opt_in_status,
        code_hash=row.verification_code,
        expires_at=row.verification_expires_at,
        attempts=row.verification_attempts,
        sends=list(row.verification_sends or ()),
    )


def phone_holder_verified(connection: Connection, *, phone: str, user_id: uuid.UUID) -> bool | None:
    """Whether another user's account holding ``phone`` is verified; None if none holds it."""
    params = {"phone": phone, "user_id": user_id}
    held: bool | None = connection.exec_driver_sql(PHONE_HOLDER, params).scalar()
    return held


def create_account(
    connection: Connection, *, user_id: uuid.UUID, phone: str, country: str
) -> Account:
    params = {"user_id": user_id, "phone": phone, "country": country}
    connection.exec_driver_sql(CREATE_ACCOUNT, params)
    account = lock_account(connection, user_id)
    assert account is not None  # inserted above, or by a concurrent start that committed
    return account


def issue_code(
    connection: Connection,
    account: Account,
    *,
    phone: str,
    country: str,
    code_hash: str,
    expires_at: datetime,
    sends: list[datetime],
) -> None:
    params = {
        "account_id": account.id,
        "phone": phone,
        "country": country,
        "code_hash": code_hash,
        "expires_at": expires_at,
        "sends": sends,
    }
    connection.exec_driver_sql(ISSUE_CODE, params)


def queue_code_message(
    connection: Connection,
    *,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    code: str,
    expires_at: datetime,
    now: datetime,
) -> uuid.UUID:
    metadata = codes.message_metadata(code, expires_at=expires_at)
    message = OutboundMessageCreate(
        user_id=user_id,
        whatsapp_account_id=account_id,
        message_type="template",
        content=codes.message_content(),
        template=metadata.pop("template"),
        category=metadata.pop("category"),
        meta=metadata,
        next_attempt_at=now,
    )
    message_id = write_outbound(connection, message)
    return message_id


def retire_code_messages(
    connection: Connection, *, account_id: uuid.UUID, reason: str, now: datetime
) -> int:
    params = {
        "account_id": account_id,
        "reason": reason,
        "now": now,
        "redacted": json.dumps(codes.template_components(codes.REDACTED)),
    }
    return connection.exec_driver_sql(RETIRE_CODE_MESSAGES, params).rowcount


def mark_verified(connection: Connection, *, account_id: uuid.UUID, now: datetime) -> None:
    connection.exec_driver_sql(MARK_VERIFIED, {"account_id": account_id, "now": now})


def record_wrong_code(connection: Connection, *, account_id: uuid.UUID, max_attempts: int) -> int:
    """Count one wrong code; returns the attempts used (the code is void at the limit)."""
    params = {"account_id": account_id, "max_attempts": max_attempts}
    attempts: int = connection.exec_driver_sql(RECORD_WRONG_CODE, params).scalar_one()
    return attempts
