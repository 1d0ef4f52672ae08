"""Inbound messages are attributed to the business number that received them."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import make_traveller, scalar
from tests.webhooks.conftest import post
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver

pytestmark = pytest.mark.integration


def test_an_inbound_row_keeps_the_receiving_phone_number_id(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
    at = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    body = meta.payload(messages=[meta.text_message(ana.phone, "Olá", at)])
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "2002"
    assert post(http, receiver.url, body).status_code == 200
    drain(engine)
    number = scalar(
        engine,
        "SELECT sender_phone_number_id FROM whatsapp_messages WHERE direction = 'inbound'",
    )
    assert number == "2002"
