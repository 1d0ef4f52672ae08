"""Meta's quality and account webhooks update the sender, through the ordinary ingest."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.webhooks.builders import store_delivery
from tripcast.models.senders import WhatsAppSenderCreate
from tripcast.senders.registry import add_sender, load_senders, set_status
from tripcast.webhooks.ingest import drain

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
WABA = "200000000000001"


def delivery(field: str, value: dict[str, Any]) -> dict[str, Any]:
    change = {"field": field, "value": value}
    entry = {"id": WABA, "time": 1764669600, "changes": [change]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


def ingest(engine: Engine, *payloads: dict[str, Any]) -> Any:
    with engine.begin() as connection:
        for payload in payloads:
            store_delivery(connection, payload)
    return drain(engine, now=NOW)


def state(engine: Engine, number: str = "2002") -> tuple[Any, ...]:
    with engine.connect() as connection:
        sender = load_senders(connection)[number]
    return (sender.quality_rating, sender.messaging_limit_tier, sender.status)


@pytest.fixture
def senders(engine: Engine) -> Engine:
    with engine.begin() as connection:
        for number, display in (("2002", "+351 210 000 001"), ("3003", "16505550100")):
            add_sender(
                connection,
                WhatsAppSenderCreate(phone_number_id=number, display_number=display, waba_id=WABA),
            )
    return engine


def quality(event: str, limit: str, display: str = "351210000001") -> dict[str, Any]:
    value = {"display_phone_number": display, "event": event, "current_limit": limit}
    return delivery("phone_number_quality_update", value)


def test_flagged_turns_red_and_alerts_unflagged_recovers(
    senders: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tripcast.senders.events"):
        report = ingest(senders, quality("FLAGGED", "TIER_2K"))
    assert report.sender_updates == 1
    assert state(senders) == ("RED", "TIER_2K", "active")
    assert state(senders, "3003") == ("UNKNOWN", None, "active")
    assert "sender 2002 is active with quality RED" in caplog.text
    ingest(senders, quality("UNFLAGGED", "TIER_2K"), quality("UPGRADE", "TIER_10K"))
    assert state(senders) == ("GREEN", "TIER_10K", "active")


def test_account_restriction_restricts_every_number_of_the_account_then_lifts(
    senders: Engine,
) -> None:
    restricted = {
        "event": "ACCOUNT_RESTRICTION",
        "restriction_info": [
            {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": "1764756000"}
        ],
    }
    assert ingest(senders, delivery("account_update", restricted)).sender_updates == 2
    assert state(senders)[2] == state(senders, "3003")[2] == "restricted"
    with senders.connect() as connection:
        reason = load_senders(connection)["2002"].paused_reason
    assert reason == "restricted by Meta: RESTRICTED_BIZ_INITIATED_MESSAGING"
    lifted = {"event": "ACCOUNT_RESTRICTION", "restriction_info": []}
    ingest(senders, delivery("account_update", lifted))
    assert state(senders)[2] == "active"


def test_a_ban_disables_and_an_operators_pause_is_never_lifted_by_meta(senders: Engine) -> None:
    with senders.begin() as connection:
        set_status(connection, "3003", status="paused", reason="brand review", now=NOW)
    banned = {"phone_number": "+351 210 000 001", "ban_info": {"waba_ban_state": ["DISABLE"]}}
    ingest(senders, delivery("account_update", banned))
    assert state(senders)[2] == "disabled"
    ingest(
        senders,
        delivery("account_update", {"event": "ACCOUNT_RESTRICTION", "restriction_info": []}),
    )
    assert state(senders)[2] == "disabled"  # a lifted restriction is not a reinstated ban
    with senders.connect() as connection:
        reason = load_senders(connection)["2002"].paused_reason
    assert reason == "disabled by Meta (ban)"
    assert state(senders, "3003")[2] == "paused"
    ingest(senders, delivery("account_update", {"ban_info": {"waba_ban_state": ["REINSTATE"]}}))
    assert (state(senders)[2], state(senders, "3003")[2]) == ("active", "paused")


def test_applied_sender_fields_are_not_counted_as_unused_skipped_ones_are(
    senders: Engine,
) -> None:
    restricted = {"event": "ACCOUNT_RESTRICTION", "restriction_info": [{"restriction_type": "X"}]}
    report = ingest(senders, quality("FLAGGED", "TIER_2K"), delivery("account_update", restricted))
    assert report.sender_updates == 3
    assert report.unused == {}
    report = ingest(
        senders,
        quality("FLAGGED", "TIER_2K", display="4915100000000"),  # no such number
        delivery("account_update", {"event": "VERIFIED_ACCOUNT"}),  # nothing to keep
    )
    assert report.sender_updates == 0
    assert report.unused == {"field:phone_number_quality_update": 1, "field:account_update": 1}
