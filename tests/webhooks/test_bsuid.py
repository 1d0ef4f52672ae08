"""Business-scoped user IDs: learned with the number, then matched without it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import (
    Traveller,
    make_outbound,
    make_traveller,
    rows,
    scalar,
    store_delivery,
)
from tests.webhooks.conftest import post
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def value(**parts: Any) -> dict[str, Any]:
    """A delivery of one ``messages`` value with these parts (contacts, messages, ...)."""
    body = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1065"},
        **parts,
    }
    change = {"value": body, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}


def contact(bsuid: str, *, wa_id: str | None = None, username: str | None = None) -> dict:
    profile: dict[str, Any] = {"name": "Ana"}
    if username:
        profile["username"] = username
    found: dict[str, Any] = {"profile": profile, "user_id": bsuid}
    if wa_id:
        found["wa_id"] = wa_id
    return found


def said(bsuid: str, text: str, at: datetime, *, phone: str | None = None) -> dict[str, Any]:
    message = meta.text_message(phone or "", text, at)
    if phone is None:
        del message["from"]
    message["from_user_id"] = bsuid
    return message


def deliver(engine: Engine, data: dict[str, Any], *, now: datetime) -> Any:
    with engine.begin() as connection:
        store_delivery(connection, data)
    return drain(engine, now=now)


def identity(engine: Engine, who: Traveller) -> tuple[Any, ...]:
    [row] = rows(
        engine,
        "SELECT bsuid, username, opt_in_status FROM whatsapp_accounts WHERE id = %(a)s",
        a=who.account,
    )
    return tuple(row.values())


def test_a_message_with_number_and_bsuid_teaches_the_account_both(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
    hello = meta.text_message(ana.phone, "hello", T0)
    hello["from_user_id"] = "PT.111"
    data = value(contacts=[contact("PT.111", wa_id=ana.phone, username="@ana")], messages=[hello])
    report = deliver(engine, data, now=T0 + S)
    assert report.identities_learned == 1
    assert identity(engine, ana) == ("PT.111", "@ana", "opted_in")


def test_a_status_with_number_and_bsuid_teaches_the_account(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        sent = make_outbound(connection, ana, status="sent", wamid=meta.new_wamid())
    wamid = scalar(engine, "SELECT external_id FROM whatsapp_messages WHERE id = %(i)s", i=sent)
    receipt = meta.status(wamid, "delivered", T0, recipient=ana.phone)
    receipt["recipient_user_id"] = "PT.222"
    report = deliver(engine, value(statuses=[receipt]), now=T0 + S)
    assert (report.identities_learned, report.receipts_matched) == (1, 1)
    assert identity(engine, ana)[0] == "PT.222"


def test_a_bsuid_only_travellers_stop_opts_them_out_and_cancels_their_queue(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        ana, bea = make_traveller(connection), make_traveller(connection)
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET bsuid = 'PT.333' WHERE id = %(a)s", {"a": ana.account}
        )
        queued = make_outbound(connection, ana, status="pending")
        others = make_outbound(connection, bea, status="pending")
    stop = value(
        contacts=[contact("PT.333", username="@ana")], messages=[said("PT.333", "STOP", T0)]
    )
    report = deliver(engine, stop, now=T0 + S)
    assert (report.opted_out, report.cancelled_messages, report.unknown_senders) == (1, 1, 0)
    assert identity(engine, ana) == ("PT.333", "@ana", "opted_out")
    statuses = rows(
        engine,
        "SELECT id, status, failed_reason FROM whatsapp_messages WHERE direction = 'outbound'",
    )
    assert {r["id"]: (r["status"], r["failed_reason"]) for r in statuses} == {
        queued: ("failed", "cancelled: opted out"),
        others: ("pending", None),
    }
    inbound = rows(
        engine, "SELECT whatsapp_account_id FROM whatsapp_messages WHERE direction = 'inbound'"
    )
    assert inbound == [{"whatsapp_account_id": ana.account}]


def test_a_status_with_only_a_bsuid_is_applied(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        sent = make_outbound(connection, ana, status="sent", wamid=meta.new_wamid())
    wamid = scalar(engine, "SELECT external_id FROM whatsapp_messages WHERE id = %(i)s", i=sent)
    receipt = meta.status(wamid, "read", T0)
    del receipt["recipient_id"]
    receipt["recipient_user_id"] = "PT.444"
    report = deliver(engine, value(statuses=[receipt]), now=T0 + S)
    assert (report.receipts_matched, report.items_rejected) == (1, 0)
    assert scalar(engine, "SELECT status FROM whatsapp_messages WHERE id = %(i)s", i=sent) == "read"


def test_an_unknown_bsuid_sender_is_kept_then_linked_once_the_bsuid_is_known(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        queued = make_outbound(connection, ana, status="pending")
    stop = value(contacts=[contact("PT.555")], messages=[said("PT.555", "STOP", T0)])
    assert deliver(engine, stop, now=T0 + S).unknown_senders == 1
    assert identity(engine, ana) == (None, None, "opted_in")
    kept = rows(engine, "SELECT sender, sender_user_id FROM webhook_unknown_senders")
    assert kept == [{"sender": None, "sender_user_id": "PT.555"}]
    # Later a reply carries both: the account learns the BSUID and its kept STOP counts.
    hello = said("PT.555", "thanks", T0 + 60 * S, phone=ana.phone)
    data = value(contacts=[contact("PT.555", wa_id=ana.phone)], messages=[hello])
    report = deliver(engine, data, now=T0 + 61 * S)
    assert (report.unknown_senders_linked, report.opted_out) == (1, 1)
    assert identity(engine, ana) == ("PT.555", None, "opted_out")
    linked = rows(engine, "SELECT whatsapp_account_id FROM webhook_unknown_senders")
    assert linked == [{"whatsapp_account_id": ana.account}]
    assert (
        scalar(engine, "SELECT status FROM whatsapp_messages WHERE id = %(i)s", i=queued)
        == "failed"
    )


def test_a_bsuid_held_by_another_account_is_not_moved(engine: Engine) -> None:
    with engine.begin() as connection:
        ana, bea = make_traveller(connection), make_traveller(connection)
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET bsuid = 'PT.666' WHERE id = %(a)s", {"a": ana.account}
        )
    data = value(contacts=[contact("PT.666", wa_id=bea.phone)])
    report = deliver(engine, data, now=T0 + S)
    assert (report.identities_learned, report.identity_conflicts) == (0, 1)
    assert (identity(engine, ana)[0], identity(engine, bea)[0]) == ("PT.666", None)


def test_a_number_change_moves_the_number_and_keeps_the_bsuid(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET bsuid = 'PT.777' WHERE id = %(a)s", {"a": ana.account}
        )
    notice = meta.number_changed(ana.phone, "14155550199", T0)
    deliver(engine, value(messages=[notice]), now=T0 + S)
    [row] = rows(
        engine, "SELECT phone_number, bsuid FROM whatsapp_accounts WHERE id = %(a)s", a=ana.account
    )
    assert row == {"phone_number": "14155550199", "bsuid": "PT.777"}


@pytest.mark.parametrize("part", ["messages", "statuses"])
def test_an_item_with_neither_number_nor_bsuid_is_refused(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine, part: str
) -> None:
    item = meta.text_message("", "hi", T0) if part == "messages" else meta.status("w", "sent", T0)
    item.pop("from", None)
    item.pop("recipient_id", None)
    answer = post(http, receiver.url, value(**{part: [item]}))
    assert answer.status_code == 400
    assert "neither a phone number nor a business-scoped user ID" in answer.text
    with engine.begin() as connection:
        store_delivery(connection, value(**{part: [item]}))
    report = drain(engine, now=T0)
    assert report.items_rejected == 1
    reasons = rows(engine, "SELECT reason FROM webhook_review_items")
    assert "neither a phone number nor a business-scoped user ID" in reasons[0]["reason"]
