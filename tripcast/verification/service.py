"""Phone verification: start (send a code) and confirm (check it), each one transaction.

``start_verification`` normalises the number, creates or moves the traveller's account
to it, stores a fresh code's hash and queues the code as an authentication template.
``confirm_verification`` checks a code: verified and opted in, or one attempt used.
Both raise a ``VerificationError`` subclass naming what the traveller can do about it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy.exc
from sqlalchemy.engine import Connection, Engine

from tripcast.verification import accounts, codes
from tripcast.verification.policy import DEFAULT_POLICY, VerificationPolicy
from tripcast.verification.refusals import (
    AlreadyVerified,
    AttemptsExhausted,
    CodeExpired,
    InvalidPhone,
    NoPendingCode,
    PhoneNumberTaken,
    UnknownUser,
    VerificationError,
    WrongCode,
)
from tripcast.whatsapp.phone import InvalidPhoneNumber, country_code_of, mask_phone, normalize_phone

REPLACED = "cancelled: verification code replaced"
VERIFIED = "cancelled: phone number verified"
VOID = "cancelled: verification code void"


@dataclass(frozen=True)
class CodeSent:
    account_id: uuid.UUID
    message_id: uuid.UUID
    phone_number: str  # E.164 digits
    expires_at: datetime
    phone_changed: bool  # the account moved to this number (and is unverified again)

    def as_outcome(self) -> dict[str, Any]:
        return {
            "outcome": "code_queued",
            "account_id": str(self.account_id),
            "message_id": str(self.message_id),
            "phone": mask_phone(self.phone_number),
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass(frozen=True)
class PhoneVerified:
    account_id: uuid.UUID
    phone_number: str
    verified_at: datetime

    def as_outcome(self) -> dict[str, Any]:
        return {
            "outcome": "verified",
            "account_id": str(self.account_id),
            "phone": mask_phone(self.phone_number),
            "verified_at": self.verified_at.isoformat(),
        }


def normalised_phone(raw: str, *, default_region: str | None = None) -> tuple[str, str]:
    """E.164 digits and ISO country of ``raw``, or ``InvalidPhone`` saying what is wrong."""
    try:
        digits = normalize_phone(raw, default_region=default_region)
        return digits, country_code_of(digits)
    except InvalidPhoneNumber as error:
        raise InvalidPhone(str(error)) from None


def start_verification(
    engine: Engine,
    user_id: uuid.UUID,
    phone: str,
    *,
    now: datetime,
    policy: VerificationPolicy = DEFAULT_POLICY,
    default_region: str | None = None,
) -> CodeSent:
    """Send ``user_id`` a new code for ``phone`` (``now`` must be timezone-aware)."""
    _require_aware(now)
    digits, country = normalised_phone(phone, default_region=default_region)
    try:
        with engine.begin() as connection:
            account = _account_for(connection, user_id, phone=digits, country=country)
            if account.is_verified and account.phone_number == digits:
                raise AlreadyVerified(f"phone number {mask_phone(digits)} is already verified")
            policy.check_resend(account.sends, now=now)
            sent = _send_code(
                connection, user_id, account, phone=digits, country=country, now=now, policy=policy
            )
    except sqlalchemy.exc.IntegrityError as error:
        refusal = _refusal_for(error, digits)
        if refusal is None:
            raise
        raise refusal from None
    return sent


def _send_code(
    connection: Connection,
    user_id: uuid.UUID,
    account: accounts.Account,
    *,
    phone: str,
    country: str,
    now: datetime,
    policy: VerificationPolicy,
) -> CodeSent:
    """Store a fresh code's hash on the account, retire older code messages, queue it."""
    code, expires_at = codes.new_code(), now + policy.code_ttl
    accounts.issue_code(
        connection,
        account,
        phone=phone,
        country=country,
        code_hash=codes.hash_code(code),
        expires_at=expires_at,
        sends=[*policy.recent_sends(account.sends, now=now), now],
    )
    accounts.retire_code_messages(connection, account_id=account.id, reason=REPLACED, now=now)
    message_id = accounts.queue_code_message(
        connection,
        user_id=user_id,
        account_id=account.id,
        code=code,
        expires_at=expires_at,
        now=now,
    )
    changed = account.phone_number != phone
    return CodeSent(account.id, message_id, phone, expires_at, phone_changed=changed)


def confirm_verification(
    engine: Engine,
    user_id: uuid.UUID,
    code: str,
    *,
    now: datetime,
    policy: VerificationPolicy = DEFAULT_POLICY,
) -> PhoneVerified:
    """Check ``code``: the account is verified and opted in, or the attempt is counted."""
    _require_aware(now)
    entered = codes.normalise_code(code)
    with engine.begin() as connection:
        account = accounts.lock_account(connection, user_id)
        _raise_if_not_confirmable(account, now=now, policy=policy)
        assert account is not None and account.code_hash is not None
        if codes.code_matches(entered, account.code_hash):
            accounts.mark_verified(connection, account_id=account.id, now=now)
            accounts.retire_code_messages(
                connection, account_id=account.id, reason=VERIFIED, now=now
            )
            return PhoneVerified(account.id, account.phone_number, now)
        wrong = _wrong_code(connection, account, now=now, policy=policy)
    # Raised after the commit: the used attempt must stick even though the step failed.
    raise wrong


def _account_for(
    connection: Connection, user_id: uuid.UUID, *, phone: str, country: str
) -> accounts.Account:
    """The traveller's account, locked; created on the number when they have none."""
    account = accounts.lock_account(connection, user_id)
    if account is None or account.phone_number != phone:
        holder_verified = accounts.phone_holder_verified(connection, phone=phone, user_id=user_id)
        if holder_verified is not None:
            raise PhoneNumberTaken(mask_phone(phone), verified=holder_verified)
    if account is None:
        account = accounts.create_account(connection, user_id=user_id, phone=phone, country=country)
    return account


def _raise_if_not_confirmable(
    account: accounts.Account | None, *, now: datetime, policy: VerificationPolicy
) -> None:
    if account is None:
        raise NoPendingCode("no WhatsApp account for this user: start phone verification first")
    if account.code_hash is None or account.expires_at is None:
        if account.attempts >= policy.max_attempts:
            raise AttemptsExhausted(_exhausted_message(policy))
        if account.is_verified:
            phone = mask_phone(account.phone_number)
            raise AlreadyVerified(f"phone number {phone} is already verified")
        raise NoPendingCode("no code is pending: start phone verification first")
    if account.expires_at <= now:
        raise CodeExpired(f"the code expired at {_utc(account.expires_at)}: request a new one")


def _wrong_code(
    connection: Connection, account: accounts.Account, *, now: datetime, policy: VerificationPolicy
) -> VerificationError:
    used = accounts.record_wrong_code(
        connection, account_id=account.id, max_attempts=policy.max_attempts
    )
    if used < policy.max_attempts:
        return WrongCode(attempts_left=policy.max_attempts - used)
    accounts.retire_code_messages(connection, account_id=account.id, reason=VOID, now=now)
    return AttemptsExhausted(_exhausted_message(policy))


def _exhausted_message(policy: VerificationPolicy) -> str:
    return f"{policy.max_attempts} wrong codes: this code is void, request a new one"


def _refusal_for(error: sqlalchemy.exc.IntegrityError, phone: str) -> VerificationError | None:
    """A constraint the start ran into, told as the refusal it amounts to (else None)."""
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint == "whatsapp_accounts_phone_number_key":
        # Another user's start took the number between our check and our write.
        return PhoneNumberTaken(mask_phone(phone), verified=False)
    if constraint == "whatsapp_accounts_user_id_fkey":
        return UnknownUser("no such user: verification needs an existing auth.users row")
    return None


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z"


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. 2026-05-01T09:00:00Z)")
