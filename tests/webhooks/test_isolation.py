"""One bad item of a delivery is isolated and recorded; its good items are applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import (
    make_outbound,
    make_traveller,
    message_row,
    rows,
    store_delivery,
)
from tripcast.webhooks.ingest import drain

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def review_rows(engine: Engine) -> list[dict]:
    return rows(
        engine, "SELECT kind, path, reason, payload FROM webhook_review_items ORDER BY path"
    )


def test_a_failed_status_with_a_huge_error_code_does_not_lose_the_good_one(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        good = make_outbound(connection, ana, wamid="wamid.good")
        make_outbound(connection, ana, wamid="wamid.bad")
        bad_status = meta.status(
            "wamid.bad", "failed", T0 + S, errors=[meta.meta_error(code=99999999999999)]
        )
        store_delivery(
            connection,
            meta.payload(statuses=[meta.status("wamid.good", "delivered", T0 + S), bad_status]),
        )
    report = drain(engine, now=T0)
    assert (report.failed, report.rejected, report.items_rejected) == (0, 0, 1)
    assert report.messages_updated == {"delivered": 1}
    assert message_row(engine, good)["status"] == "delivered"
    [state] = rows(engine, "SELECT status, attempts FROM webhook_deliveries")
    assert state == {"status": "applied", "attempts": 0}
    [item] = review_rows(engine)
    assert item["kind"] == "rejected_item"
    assert item["path"] == "entry.0.changes.0.value.statuses.1"
    assert "errors.0.code" in item["reason"]
    assert item["payload"] == bad_status
    # Meta delivers the same body again: nothing is applied or recorded twice.
    again = meta.payload(statuses=[bad_status])
    with engine.begin() as connection:
        store_delivery(connection, again)
    assert drain(engine, now=T0).review_items == 0
    assert len(review_rows(engine)) == 1


def test_every_payload_fed_column_is_guarded_item_by_item(engine: Engine) -> None:
    huge = "99999999999999999999"
    bad_items = [
        meta.status("wamid.a", "delivered", T0) | {"timestamp": huge},
        meta.status("wamid.b", "failed", T0, errors=[{"code": -(2**40)}]),
        meta.status("wamid.c", "read", T0) | {"id": "w" * 5000},
        meta.status("wamid.d", "read", T0) | {"recipient_id": 7},
        "not an object",
    ]
    with engine.begin() as connection:
        ana = make_traveller(connection)
        fine = make_outbound(connection, ana, wamid="wamid.fine")
        bad_messages = [
            meta.text_message(ana.phone, "late", T0) | {"timestamp": huge},
            meta.text_message(ana.phone, "long", T0) | {"from": "3" * 5000},
            meta.text_message(ana.phone, "no type", T0) | {"type": None},
        ]
        store_delivery(
            connection,
            meta.payload(
                statuses=[*bad_items, meta.status("wamid.fine", "read", T0 + S)],
                messages=[*bad_messages, meta.text_message(ana.phone, "Thanks!", T0)],
            ),
        )
    report = drain(engine, now=T0)
    assert (report.items_rejected, report.failed, report.inbound_stored) == (8, 0, 1)
    assert message_row(engine, fine)["status"] == "read"
    assert len(review_rows(engine)) == 8
    inbound = rows(engine, "SELECT content FROM whatsapp_messages WHERE direction = 'inbound'")
    assert inbound == [{"content": "Thanks!"}]


def test_what_tripcast_does_not_use_is_kept_and_counted(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        sent = make_outbound(connection, ana, wamid="wamid.voice")
        data = meta.payload(
            statuses=[
                meta.status("wamid.voice", "delivered", T0),
                meta.status("wamid.voice", "played", T0 + S),
            ]
        )
        data["entry"][0]["changes"][0]["value"]["errors"] = [meta.meta_error(131000)]
        data["entry"][0]["changes"].append(
            {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}
        )
        store_delivery(connection, data)
    report = drain(engine, now=T0)
    assert report.unused == {"status:played": 1, "field:account_update": 1, "value:errors": 1}
    assert (report.items_rejected, report.rejected, report.failed) == (0, 0, 0)
    assert message_row(engine, sent)["status"] == "delivered"
    assert "3 unused" in report.summary()
