"""Confirming phone verification: success, wrong codes, the attempt limit, expiry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.support.world import make_user
from tests.verification.support import account_of, message_of, sent_code, wrong
from tripcast.verification import (
    AlreadyVerified,
    AttemptsExhausted,
    CodeExpired,
    MalformedCode,
    NoPendingCode,
    WrongCode,
    confirm_verification,
    start_verification,
)

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=3)


@pytest.fixture
def started(engine: Engine) -> tuple[uuid.UUID, uuid.UUID, str]:
    """A traveller with a code pending: (user id, message id, the code)."""
    with engine.begin() as connection:
        user = make_user(connection)
    sent = start_verification(engine, user, "+44 7911 123456", now=NOW)
    return user, sent.message_id, sent_code(engine, sent.message_id)


def test_right_code_verifies_and_opts_in(
    engine: Engine, started: tuple[uuid.UUID, uuid.UUID, str]
) -> None:
    user, message_id, code = started
    verified = confirm_verification(engine, user, f"{code[:3]} {code[3:]}", now=LATER)
    account = account_of(engine, user)
    assert (account["is_verified"], account["opt_in_status"]) == (True, "opted_in")
    assert account["opted_in_at"] == account["verified_at"] == LATER == verified.verified_at
    assert account["verification_code"] is None
    assert account["verification_expires_at"] is None
    assert verified.as_outcome()["outcome"] == "verified"
    # The unsent code message is pointless now; its stored code is blanked out.
    message = message_of(engine, message_id)
    assert (message["status"], message["failed_reason"]) == (
        "failed",
        "cancelled: phone number verified",
    )
    assert sent_code(engine, message_id) == "******"
    with pytest.raises(AlreadyVerified):
        confirm_verification(engine, user, code, now=LATER)


def test_sent_code_message_is_redacted_but_keeps_its_status(
    engine: Engine, started: tuple[uuid.UUID, uuid.UUID, str]
) -> None:
    user, message_id, code = started
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE whatsapp_messages SET status = 'delivered' WHERE id = %(id)s",
            {"id": message_id},
        )
    confirm_verification(engine, user, code, now=LATER)
    message = message_of(engine, message_id)
    assert (message["status"], message["failed_reason"]) == ("delivered", None)
    assert code not in str(message["metadata"])


def test_wrong_code_uses_an_attempt_and_tells_how_many_are_left(
    engine: Engine, started: tuple[uuid.UUID, uuid.UUID, str]
) -> None:
    user, _, code = started
    with pytest.raises(WrongCode, match="4 attempts left") as first:
        confirm_verification(engine, user, wrong(code), now=LATER)
    assert first.value.as_outcome() == {
        "outcome": "rejected",
        "error": "wrong_code",
        "message": "wrong code: 4 attempts left for this code",
        "attempts_left": 4,
    }
    assert account_of(engine, user)["verification_attempts"] == 1
    assert account_of(engine, user)["is_verified"] is False
    confirm_verification(engine, user, code, now=LATER)
    assert account_of(engine, user)["verification_attempts"] == 0


def test_malformed_code_does_not_use_an_attempt(
    engine: Engine, started: tuple[uuid.UUID, uuid.UUID, str]
) -> None:
    user, _, _ = started
    with pytest.raises(MalformedCode):
        confirm_verification(engine, user, "12345", now=LATER)
    assert account_of(engine, user)["verification_attempts"] == 0


def test_fifth_wrong_code_voids_the_code(
    engine: Engine, started: tuple[uuid.UUID, uuid.UUID, str]
) -> None:
    user, message_id, code = started
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongCode) as raised:
            confirm_verification(engine, user, wrong(code), now=LATER)
        assert raised.value.attempts_left == left
    with pytest.raises(AttemptsExhausted, match="5 wrong codes: this code is void"):
        confirm_verification(engine, user, wrong(code), now=LATER)
    # Even the right code is refused now, until a new one is requested.
    with pytest.raises(AttemptsExhausted):
        confirm_verification(engine, user, code, now=LATER)
    account = account_of(engine, user)
    assert (account["verification_code"], account["is_verified"]) == (None, False)
    assert message_of(engine, message_id)["failed_reason"] == "cancelled: verification code void"
    fresh = start_verification(engine, user, "+44 7911 123456", now=LATER)
    confirm_verification(engine, user, sent_code(engine, fresh.message_id), now=LATER)
    assert account_of(engine, user)["is_verified"] is True


def test_expired_code_is_refused(engine: Engine, started: tuple[uuid.UUID, uuid.UUID, str]) -> None:
    user, _, code = started
    with pytest.raises(CodeExpired, match="expired at 2026-05-01 09:10:00Z"):
        confirm_verification(engine, user, code, now=NOW + timedelta(minutes=10))
    assert account_of(engine, user)["verification_attempts"] == 0
    confirm_verification(engine, user, code, now=NOW + timedelta(minutes=9, seconds=59))


def test_replaced_code_no_longer_works(
    engine: Engine, started: tuple[uuid.UUID, uuid.UUID, str]
) -> None:
    user, _, old_code = started
    fresh = start_verification(engine, user, "+44 7911 123456", now=LATER)
    new_code = sent_code(engine, fresh.message_id)
    if new_code != old_code:  # one chance in a million that they are equal
        with pytest.raises(WrongCode):
            confirm_verification(engine, user, old_code, now=LATER)
    confirm_verification(engine, user, new_code, now=LATER)


def test_confirm_without_a_start_is_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
    with pytest.raises(NoPendingCode, match="start phone verification first"):
        confirm_verification(engine, user, "123456", now=NOW)


def test_naive_now_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        confirm_verification(engine, uuid.uuid4(), "123456", now=datetime(2026, 5, 1, 9))
