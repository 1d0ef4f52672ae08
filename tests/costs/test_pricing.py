"""Each message's pricing, from its status receipts: set once, queryable, with its country."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import make_outbound, make_traveller, rows, store_delivery
from tripcast.costs.pricing import destination_country, pricing_of
from tripcast.webhooks.ingest import drain

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def priced(wamid: str, name: str, at: datetime, *, category: str, kind: str) -> dict:
    status = meta.status(wamid, name, at)
    status["pricing"] = {
        "billable": kind == "regular",
        "pricing_model": "PMP",
        "category": category,
        "type": kind,
    }
    status["conversation"] = {
        "id": "c0ffee",
        "origin": {"type": category},
        "expiration_timestamp": meta.epoch(at + timedelta(hours=24)),
    }
    return status


def test_first_priced_receipt_is_kept_once_with_destination_country(engine: Engine) -> None:
    with engine.begin() as connection:
        lisbon = make_traveller(connection, phone="351912345678")
        boston = make_traveller(connection, phone="16175550123")
        first = make_outbound(connection, lisbon, wamid="wamid.PT1")
        second = make_outbound(connection, boston, wamid="wamid.US1")
        batch = meta.payload(
            statuses=[
                priced("wamid.PT1", "sent", T0, category="marketing", kind="regular"),
                priced("wamid.US1", "sent", T0, category="service", kind="free_customer_service"),
                meta.status("wamid.US1", "read", T0 + timedelta(seconds=5)),
            ]
        )
        store_delivery(connection, batch)
        batch["entry"][0]["id"] = "1025"  # the same receipts again, in another delivery
        store_delivery(connection, batch)
        # A later receipt claiming another price changes nothing: the first one stands.
        later = priced("wamid.PT1", "delivered", T0 + timedelta(seconds=2),
                       category="utility", kind="regular")  # fmt: skip
        store_delivery(connection, meta.payload(statuses=[later]))
    drain(engine, now=T0 + timedelta(minutes=1))
    found = rows(
        engine,
        "SELECT message_id, billable, category, pricing_type, pricing_model, destination_country,"
        " priced_at, conversation_origin, conversation_expires_at"
        " FROM whatsapp_message_pricing ORDER BY destination_country",
    )
    assert [(r["message_id"], r["destination_country"]) for r in found] == [
        (first, "PT"), (second, "US"),
    ]  # fmt: skip
    portugal, america = found
    assert (portugal["billable"], portugal["category"], portugal["pricing_type"]) == (
        True, "marketing", "regular",
    )  # fmt: skip
    assert portugal["priced_at"] == T0
    assert portugal["conversation_expires_at"] == T0 + timedelta(hours=24)
    assert (america["billable"], america["category"]) == (False, "service")


def test_a_receipt_kept_unmatched_is_priced_when_its_message_appears(engine: Engine) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection, phone="447700900123")
        store_delivery(connection, meta.payload(statuses=[
            priced("wamid.LATE", "sent", T0, category="utility", kind="regular")
        ]))  # fmt: skip
    drain(engine, now=T0)
    assert rows(engine, "SELECT 1 FROM whatsapp_message_pricing") == []
    with engine.begin() as connection:
        message = make_outbound(connection, traveller, wamid="wamid.LATE")
    drain(engine, now=T0 + timedelta(minutes=10))
    found = rows(engine, "SELECT message_id, destination_country FROM whatsapp_message_pricing")
    assert found == [{"message_id": message, "destination_country": "GB"}]


@pytest.mark.parametrize(
    ("pricing", "expected"),
    [
        ({"pricing_model": "PMP", "category": "utility", "type": "regular"}, (True, "utility")),
        ({"category": "service", "type": "free_customer_service"}, (False, "service")),
        (
            {"billable": False, "category": "marketing", "type": "free_entry_point"},
            (False, "marketing"),
        ),
        ({"billable": True, "pricing_model": "CBP", "category": "MARKETING"}, (True, "marketing")),
    ],
)
def test_pricing_is_read_from_both_pricing_models(pricing: dict, expected: tuple) -> None:
    found = pricing_of({"pricing": pricing})
    assert found is not None
    assert (found.billable, found.category) == expected


@pytest.mark.parametrize("pricing", [None, "regular", {}, {"billable": True}, {"category": " "}])
def test_a_status_without_usable_pricing_prices_nothing(pricing: object) -> None:
    assert pricing_of({"pricing": pricing}) is None


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("351912345678", "PT"),
        ("14165550123", "CA"),
        ("16175550123", "US"),
        ("", "ZZ"),
        (None, "ZZ"),
        ("999123", "ZZ"),
        ("447700900123", "GB"),
    ],
)
def test_destination_country_comes_from_the_whole_number(number: str | None, country: str) -> None:
    assert destination_country(number) == country
