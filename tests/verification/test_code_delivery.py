"""A verification code from start to confirm: queued, dispatched to the fake Cloud API,
received, confirmed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.support.world import make_account, make_user
from tests.verification.support import account_of, message_of, sent_code
from tripcast.dispatch import DispatchReport, DispatchSettings, run_dispatch, utc_now
from tripcast.verification import confirm_verification, start_verification
from tripcast.whatsapp.fake import FakeCloudApi

pytestmark = pytest.mark.integration

PHONE, DIGITS = "+351 912 345 678", "351912345678"


def dispatch(engine: Engine, fake: FakeCloudApi) -> DispatchReport:
    return run_dispatch(
        engine,
        client_factory=lambda: fake.client(timeout=2.0),
        settings=DispatchSettings(send_rate=None, lanes=1),
    )


def new_user(engine: Engine) -> uuid.UUID:
    with engine.begin() as connection:
        return make_user(connection)


def test_a_code_reaches_the_traveller_and_confirms_the_number(
    engine: Engine, fake_whatsapp: FakeCloudApi
) -> None:
    user = new_user(engine)
    now = utc_now()
    sent = start_verification(engine, user, PHONE, now=now)
    assert account_of(engine, user)["opt_in_status"] == "pending"
    code = sent_code(engine, sent.message_id)

    report = dispatch(engine, fake_whatsapp)

    (accepted,) = fake_whatsapp.accepted(recipient=DIGITS)
    assert (accepted["type"], accepted["template_name"]) == ("template", "verification_code")
    assert accepted["callback_data"] == str(sent.message_id)
    assert report.counts()["sent"] == 1
    row = message_of(engine, sent.message_id)
    assert (row["status"], row["external_id"]) == ("sent", accepted["wamid"])

    verified = confirm_verification(engine, user, code, now=utc_now())
    account = account_of(engine, user)
    assert verified.phone_number == DIGITS
    assert (account["is_verified"], account["opt_in_status"]) == (True, "opted_in")
    assert sent_code(engine, sent.message_id) == "******"  # blanked once used
    assert dispatch(engine, fake_whatsapp).claimed == 0
    assert fake_whatsapp.accepted_count(recipient=DIGITS) == 1


def test_a_traveller_who_sent_stop_gets_the_code_for_a_new_number(
    engine: Engine, fake_whatsapp: FakeCloudApi
) -> None:
    # Verified on an old number, then STOP: the account is opted out. Verifying a new
    # number leaves it opted out until the code is confirmed, so the code must reach it.
    with engine.begin() as connection:
        user = make_user(connection)
        account = make_account(connection, user_id=user, phone="351912000999")
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET opt_in_status = 'opted_out', "
            "opted_out_at = %(at)s WHERE id = %(id)s",
            {"at": utc_now() - timedelta(days=3), "id": account},
        )
    sent = start_verification(engine, user, PHONE, now=utc_now())
    assert sent.phone_changed
    assert account_of(engine, user)["opt_in_status"] == "opted_out"

    dispatch(engine, fake_whatsapp)

    (accepted,) = fake_whatsapp.accepted(recipient=DIGITS)
    assert accepted["template_name"] == "verification_code"
    assert fake_whatsapp.accepted_count(recipient="351912000999") == 0
    confirm_verification(engine, user, sent_code(engine, sent.message_id), now=utc_now())
    assert account_of(engine, user)["opt_in_status"] == "opted_in"


def test_a_code_that_expired_before_dispatch_is_cancelled_not_sent(
    engine: Engine, fake_whatsapp: FakeCloudApi
) -> None:
    user = new_user(engine)
    sent = start_verification(engine, user, PHONE, now=utc_now() - timedelta(minutes=11))

    report = dispatch(engine, fake_whatsapp)

    assert fake_whatsapp.accepted_count(recipient=DIGITS) == 0
    row = message_of(engine, sent.message_id)
    assert (row["status"], row["failed_reason"]) == (
        "failed",
        "cancelled: verification code expired",
    )
    assert report.counts()["cancelled"] == 1
