"""``tripcast forecast`` says whether a batch would exceed the tier, and by how much."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE
from tests.dispatch.conftest import NOW
from tests.dispatch.mock_api import queued, traveller
from tripcast.cli import main
from tripcast.models.senders import WhatsAppSenderCreate
from tripcast.senders.registry import add_sender

TEMPLATED = {"message_type": "template", "metadata": {"template": TEMPLATE}}


@pytest.fixture
def near_the_limit(configured: Engine) -> Engine:
    with configured.begin() as connection:
        add_sender(
            connection, WhatsAppSenderCreate(phone_number_id="2002", messaging_limit_tier="TIER_50")
        )
    for index in range(48):
        at = NOW - timedelta(hours=20, minutes=index)
        queued(configured, traveller(configured), status="sent", sent_at=at,
               send_started_at=at, **TEMPLATED)  # fmt: skip
    return configured


def test_the_pending_queue_over_the_tier(
    near_the_limit: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(5):
        queued(near_the_limit, traveller(near_the_limit), **TEMPLATED)
    assert main(["forecast", "--now", NOW.isoformat()]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "messaging limit TIER_50: 50 new users per 24 h; 48 reached in the last 24 h, 2 left"
    )
    frees = (NOW - timedelta(hours=20, minutes=47) + timedelta(hours=24)).isoformat()
    assert out[1] == (
        f"the batch of 5 new users exceeds it by 3: new user 3 and after wait; "
        f"room frees from {frees}"
    )


def test_a_given_count_that_fits(
    near_the_limit: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["forecast", "--count", "2", "--now", NOW.isoformat()]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "the batch of 2 new users fits"


def test_a_negative_count_is_refused(
    near_the_limit: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["forecast", "--count", "-1"]) == 2
    assert capsys.readouterr().err == "tripcast: --count must not be negative, got -1\n"
