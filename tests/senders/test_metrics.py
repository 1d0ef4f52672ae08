"""Each sender's pause and quality rating, read at scrape time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from tests.metrics.support import parse, value
from tripcast.metrics import registry_for, scrape
from tripcast.models.senders import WhatsAppSenderCreate
from tripcast.senders.registry import add_sender, set_status


def test_sender_paused_and_quality_gauges(engine: Engine) -> None:
    with engine.begin() as connection:
        add_sender(connection, WhatsAppSenderCreate(phone_number_id="2002"))
        add_sender(connection, WhatsAppSenderCreate(phone_number_id="3003"))
        set_status(connection, "3003", status="paused", reason="x", now=datetime.now(UTC))
        connection.exec_driver_sql(
            "UPDATE whatsapp_senders SET quality_rating = 'RED' WHERE phone_number_id = '2002'"
        )
    samples = parse(scrape(registry_for(engine)))
    assert value(samples, "tripcast_sender_paused", phone_number_id="2002") == 0
    assert value(samples, "tripcast_sender_paused", phone_number_id="3003") == 1
    assert value(samples, "tripcast_sender_quality", phone_number_id="2002", rating="RED") == 1
    quality = value(samples, "tripcast_sender_quality", phone_number_id="3003", rating="UNKNOWN")
    assert quality == 1
