"""Priced messages for the cost tests, inserted as the ingest would leave them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from tests.webhooks.builders import make_outbound, make_traveller


def priced_message(
    connection: Connection,
    *,
    phone: str,
    category: str,
    at: datetime,
    billable: bool = True,
    country: str,
) -> None:
    traveller = make_traveller(connection, phone=phone)
    message = make_outbound(connection, traveller, wamid=f"wamid.{phone}.{at.isoformat()}")
    connection.exec_driver_sql(
        "INSERT INTO whatsapp_message_pricing (message_id, wamid, billable, pricing_model, "
        "category, pricing_type, destination_country, priced_at) VALUES (%(m)s, %(w)s, %(b)s, "
        "'PMP', %(c)s, %(t)s, %(country)s, %(at)s)",
        {
            "m": message, "w": f"wamid.{message}", "b": billable, "c": category,
            "t": "regular" if billable else "free_customer_service", "country": country, "at": at,
        },
    )  # fmt: skip
