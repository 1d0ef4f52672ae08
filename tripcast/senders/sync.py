"""``tripcast senders sync``: each sender's rating, tier and throughput from the Cloud API.

Webhooks (``phone_number_quality_update``) keep a sender current between runs; the read
catches what they cannot (a number added by hand, a missed delivery, the tier before
any change). Each number is read on its own: one Meta refuses (an id it does not know,
a token without access to it) is reported and the others are still stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from tripcast.senders.registry import Sender, list_senders, record_reading, seed_default
from tripcast.settings import Settings
from tripcast.whatsapp.api_errors import WhatsAppError
from tripcast.whatsapp.numbers import PhoneNumberInfo, PhoneNumbersClient

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    synced: list[Sender] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # phone number id -> Meta's reason

    def synced_lines(self) -> list[str]:
        return [
            f"{s.phone_number_id}: quality {s.quality_rating}, "
            f"tier {s.messaging_limit_tier or '-'}, throughput {s.throughput_level or '-'}"
            for s in self.synced
        ]

    def refused_lines(self) -> list[str]:
        return [f"{number}: refused: {why}" for number, why in self.refused.items()]


def client_from_settings(settings: Settings, **overrides: Any) -> PhoneNumbersClient:
    settings.require("whatsapp_access_token")
    token = settings.whatsapp_access_token
    assert token is not None
    options: dict[str, Any] = {
        "access_token": token.get_secret_value(),
        "base_url": settings.whatsapp_api_url,
        "api_version": settings.whatsapp_api_version,
    }
    return PhoneNumbersClient(**(options | overrides))


async def sync_senders(engine: Engine, client: PhoneNumbersClient, *, now: datetime) -> SyncReport:
    """Read every sender from the Cloud API, then store the readings in one transaction."""
    with engine.connect() as connection:
        numbers = [s.phone_number_id for s in list_senders(connection)]
    report = SyncReport()
    readings: dict[str, PhoneNumberInfo] = {}
    for number in numbers:
        try:
            readings[number] = await client.read(number)
        except WhatsAppError as error:
            report.refused[number] = str(error)
    with engine.begin() as connection:
        for number, info in readings.items():
            sender = record_reading(
                connection,
                number,
                rating=info.rating,
                tier=info.tier,
                throughput_level=info.throughput_level,
                display_number=info.display_phone_number,
                now=now,
            )
            if sender.quality_rating == "RED":  # the same alert as the webhook's
                log.warning("sender %s has quality RED: its marketing messages wait", number)
            report.synced.append(sender)
    return report


async def sync_from_settings(engine: Engine, settings: Settings, *, now: datetime) -> SyncReport:
    """``sync_senders`` with the settings' client, the default number seeded first."""
    with engine.begin() as connection:
        seed_default(
            connection,
            phone_number_id=settings.whatsapp_phone_number_id,
            waba_id=settings.whatsapp_business_account_id,
        )
    async with client_from_settings(settings) as client:
        return await sync_senders(engine, client, now=now)
