"""Starting phone verification against a real database: account, code, queued message."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.support.world import make_account, make_user
from tests.verification.support import account_of, message_of, sent_code
from tripcast.verification import (
    AlreadyVerified,
    InvalidPhone,
    PhoneNumberTaken,
    ResendThrottled,
    UnknownUser,
    start_verification,
)
from tripcast.verification.codes import code_matches

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
PHONE = "+351 912 345 678"
DIGITS = "351912345678"


@pytest.fixture
def user(engine: Engine) -> uuid.UUID:
    with engine.begin() as connection:
        return make_user(connection)


def test_start_creates_the_account_and_queues_a_hashed_code(
    engine: Engine, user: uuid.UUID
) -> None:
    sent = start_verification(engine, user, PHONE, now=NOW)
    account = account_of(engine, user)
    code = sent_code(engine, sent.message_id)
    assert (account["phone_number"], account["country_code"]) == (DIGITS, "PT")
    assert account["is_verified"] is False and account["opt_in_status"] == "pending"
    assert code not in account["verification_code"]
    assert code_matches(code, account["verification_code"])
    assert account["verification_expires_at"] == NOW + timedelta(minutes=10) == sent.expires_at
    assert account["verification_sends"] == [NOW]
    message = message_of(engine, sent.message_id)
    assert (message["direction"], message["message_type"], message["status"]) == (
        "outbound",
        "template",
        "pending",
    )
    assert message["next_attempt_at"] == NOW
    assert message["content"] == "[verification_code] ******"
    assert message["metadata"]["category"] == "authentication"
    assert sent.as_outcome()["phone"] == "3519*****678"
    assert code not in str(sent.as_outcome())


def test_national_notation_needs_a_region(engine: Engine, user: uuid.UUID) -> None:
    sent = start_verification(engine, user, "912 345 678", now=NOW, default_region="PT")
    assert sent.phone_number == DIGITS


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("", "empty"), ("+351 12", "too short"), ("call me", "not a phone number")],
)
def test_invalid_phone_is_refused_before_anything_is_written(
    engine: Engine, user: uuid.UUID, raw: str, reason: str
) -> None:
    with pytest.raises(InvalidPhone, match=reason):
        start_verification(engine, user, raw, now=NOW)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM whatsapp_accounts").scalar() == 0


def test_number_verified_by_another_user_is_refused(engine: Engine, user: uuid.UUID) -> None:
    with engine.begin() as connection:
        make_account(connection, user_id=make_user(connection), phone=DIGITS)
    with pytest.raises(PhoneNumberTaken, match=r"3519\*\*\*\*\*678 is already verified by"):
        start_verification(engine, user, PHONE, now=NOW)


def test_number_being_verified_by_another_user_is_refused(engine: Engine, user: uuid.UUID) -> None:
    with engine.begin() as connection:
        other = make_user(connection)
    start_verification(engine, other, PHONE, now=NOW)
    with pytest.raises(PhoneNumberTaken, match="awaiting verification by another user") as taken:
        start_verification(engine, user, PHONE, now=NOW)
    assert taken.value.as_outcome()["error"] == "phone_taken"


def test_unknown_user_is_refused(engine: Engine) -> None:
    with pytest.raises(UnknownUser):
        start_verification(engine, uuid.uuid4(), PHONE, now=NOW)


def test_verified_number_is_not_verified_again(engine: Engine, user: uuid.UUID) -> None:
    with engine.begin() as connection:
        make_account(connection, user_id=user, phone=DIGITS)
    with pytest.raises(AlreadyVerified, match="already verified"):
        start_verification(engine, user, PHONE, now=NOW)


def test_new_number_unverifies_and_pauses_an_opted_in_account(
    engine: Engine, user: uuid.UUID
) -> None:
    with engine.begin() as connection:
        account_id = make_account(connection, user_id=user, phone="14155550100")
    sent = start_verification(engine, user, PHONE, now=NOW)
    account = account_of(engine, user)
    assert sent.account_id == account_id and sent.phone_changed
    assert (account["phone_number"], account["is_verified"], account["opt_in_status"]) == (
        DIGITS,
        False,
        "pending",
    )


def test_opted_out_traveller_stays_opted_out_until_confirmed(
    engine: Engine, user: uuid.UUID
) -> None:
    with engine.begin() as connection:
        make_account(
            connection, user_id=user, phone=DIGITS, opt_in_status="opted_out", verified=False
        )
    start_verification(engine, user, PHONE, now=NOW)
    assert account_of(engine, user)["opt_in_status"] == "opted_out"


def test_resend_is_throttled_per_minute_and_per_hour(engine: Engine, user: uuid.UUID) -> None:
    start_verification(engine, user, PHONE, now=NOW)
    with pytest.raises(ResendThrottled, match="at most once every 60 s") as early:
        start_verification(engine, user, PHONE, now=NOW + timedelta(seconds=59))
    assert early.value.retry_at == NOW + timedelta(seconds=60)
    for minute in range(1, 5):
        start_verification(engine, user, PHONE, now=NOW + timedelta(minutes=minute))
    with pytest.raises(ResendThrottled, match="5 codes were sent within the last hour"):
        start_verification(engine, user, PHONE, now=NOW + timedelta(minutes=30))
    # Another number does not reset the account's budget.
    with pytest.raises(ResendThrottled):
        start_verification(engine, user, "+351 912 345 679", now=NOW + timedelta(minutes=30))
    start_verification(engine, user, PHONE, now=NOW + timedelta(minutes=60, seconds=1))
    assert len(account_of(engine, user)["verification_sends"]) == 5


def test_a_new_code_retires_the_previous_message(engine: Engine, user: uuid.UUID) -> None:
    first = start_verification(engine, user, PHONE, now=NOW)
    old_code = sent_code(engine, first.message_id)
    second = start_verification(engine, user, PHONE, now=NOW + timedelta(minutes=2))
    old = message_of(engine, first.message_id)
    assert (old["status"], old["failed_reason"]) == (
        "failed",
        "cancelled: verification code replaced",
    )
    assert sent_code(engine, first.message_id) == "******"
    assert old_code not in str(old["metadata"])
    assert message_of(engine, second.message_id)["status"] == "pending"
    new_code = sent_code(engine, second.message_id)
    assert code_matches(new_code, account_of(engine, user)["verification_code"])


def test_a_message_being_sent_is_left_to_dispatch(engine: Engine, user: uuid.UUID) -> None:
    first = start_verification(engine, user, PHONE, now=NOW)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE whatsapp_messages SET send_started_at = %(now)s WHERE id = %(id)s",
            {"now": NOW, "id": first.message_id},
        )
    start_verification(engine, user, PHONE, now=NOW + timedelta(minutes=2))
    in_flight = message_of(engine, first.message_id)
    assert in_flight["status"] == "pending" and in_flight["send_started_at"] == NOW
