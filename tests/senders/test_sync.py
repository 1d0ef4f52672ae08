"""``tripcast senders sync``: each sender's quality rating, messaging-limit tier and
throughput level read from the Cloud API's phone number node (stubbed with pytest-httpx
here, the fake Cloud API over loopback below) and stored on the sender."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tripcast.cli import main
from tripcast.models.senders import WhatsAppSenderCreate
from tripcast.senders.registry import add_sender, load_senders
from tripcast.senders.sync import sync_senders
from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig, FakeNumber
from tripcast.whatsapp.numbers import PhoneNumbersClient, tier_name

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
PORTUGAL, AMERICAS = "2002", "3003"


def node_url(number: str) -> re.Pattern[str]:
    return re.compile(rf"https://graph\.test/v23\.0/{number}\?fields=.*")


def state(engine: Engine, number: str) -> tuple[Any, ...]:
    with engine.connect() as connection:
        s = load_senders(connection)[number]
    return (s.quality_rating, s.messaging_limit_tier, s.throughput_level, s.display_number)


def sync(engine: Engine) -> Any:
    async def run() -> Any:
        client = PhoneNumbersClient(access_token="t0ken", base_url="https://graph.test")
        async with client:
            return await sync_senders(engine, client, now=NOW)

    return asyncio.run(run())


@pytest.fixture
def two_senders(engine: Engine) -> Engine:
    with engine.begin() as connection:
        add_sender(connection, WhatsAppSenderCreate(phone_number_id=PORTUGAL, markets=["PT"]))
        add_sender(
            connection,
            WhatsAppSenderCreate(phone_number_id=AMERICAS, messaging_limit_tier="TIER_1K"),
        )
    return engine


def test_sync_stores_rating_tier_and_throughput_and_reports_a_refusal(
    two_senders: Engine, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        url=node_url(PORTUGAL),
        json={
            "id": PORTUGAL,
            "display_phone_number": "+351 21 000 0001",
            "quality_rating": "RED",
            "throughput": {"level": "HIGH"},
            "messaging_limit_tier": "TIER_2K",  # deprecated: the newer field wins
            "whatsapp_business_manager_messaging_limit": "10000",
        },
    )
    refusal = {"error": {"message": "Unsupported get request.", "type": "GraphMethodException",
                         "code": 100, "error_subcode": 33}}  # fmt: skip
    httpx_mock.add_response(url=node_url(AMERICAS), status_code=400, json=refusal)
    report = sync(two_senders)
    assert state(two_senders, PORTUGAL) == ("RED", "TIER_10K", "HIGH", "+351 21 000 0001")
    assert state(two_senders, AMERICAS) == ("UNKNOWN", "TIER_1K", None, None)  # kept
    assert [s.phone_number_id for s in report.synced] == [PORTUGAL]
    assert list(report.refused) == [AMERICAS]
    asked = httpx_mock.get_requests()[0]
    fields = set(asked.url.params["fields"].split(","))
    assert {"quality_rating", "throughput", "whatsapp_business_manager_messaging_limit"} <= fields
    assert asked.headers["Authorization"] == "Bearer t0ken"
    with two_senders.connect() as connection:
        assert load_senders(connection)[PORTUGAL].synced_at == NOW


def test_tier_names_from_either_form() -> None:
    assert [tier_name(v) for v in ("TIER_2K", 2000, "100,000", "unlimited", "lots", None)] == [
        "TIER_2K",
        "TIER_2K",
        "TIER_100K",
        "TIER_UNLIMITED",
        None,
        None,
    ]


@pytest.mark.integration
def test_senders_sync_reads_the_fake_and_follows_its_quality_events(
    configured: Engine, fake_whatsapp: FakeCloudApi, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = fake_whatsapp
    portugal = FakeNumber(
        display_phone_number="351210000001", messaging_limit_tier="TIER_10K",
        throughput_level="HIGH",
    )  # fmt: skip
    fake.reset(FakeCloudApiConfig(latency_seconds=0, numbers={"200000000000002": portugal}))
    assert main(["senders", "add", "200000000000002", "--market", "PT"]) == 0
    assert main(["senders", "sync", "--now", "2026-12-02T09:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert "200000000000002: quality GREEN, tier TIER_10K, throughput HIGH" in out
    assert f"{fake.phone_number_id}: quality GREEN, tier TIER_2K, throughput STANDARD" in out
    assert "senders synced: 2 read, 0 refused" in out
    fake.sender_event("quality", display_phone_number="351210000001", event="FLAGGED")
    assert main(["senders", "sync"]) == 0
    assert state(configured, "200000000000002")[:3] == ("RED", "TIER_10K", "HIGH")
    assert main(["senders", "add", "999000", "--market", "US"]) == 0
    assert main(["senders", "sync"]) == 1  # an id the fake does not know
    assert "sender 999000: refused:" in capsys.readouterr().err


@pytest.mark.integration
@pytest.mark.usefixtures("prefect_harness")
def test_the_hourly_flow_reads_every_sender_from_the_fake(
    configured: Engine, fake_whatsapp: FakeCloudApi
) -> None:
    from tripcast.flows.senders import refresh_senders

    fake = fake_whatsapp
    fake.reset(FakeCloudApiConfig(latency_seconds=0))
    assert refresh_senders() == {"read": 1, "refused": 0}  # the default, seeded first
    assert state(configured, fake.phone_number_id) == (
        "GREEN",
        "TIER_2K",
        "STANDARD",
        FakeCloudApiConfig().display_phone_number,
    )
