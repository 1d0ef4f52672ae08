"""System notices, edits and revokes: applied to what they concern, never new inbound rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import Traveller, make_traveller, rows, scalar, store_delivery
from tripcast.webhooks.ingest import IngestReport, drain

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)
NEW_NUMBER = "351912345679"


def deliver(engine: Engine, *messages: dict[str, Any]) -> IngestReport:
    with engine.begin() as connection:
        store_delivery(connection, meta.payload(messages=list(messages)))
    return drain(engine, now=T0)


def traveller(engine: Engine, phone: str | None = None) -> Traveller:
    with engine.begin() as connection:
        return make_traveller(connection, phone=phone)


def account(engine: Engine, who: Traveller) -> dict[str, Any]:
    [row] = rows(
        engine,
        "SELECT phone_number, country_code FROM whatsapp_accounts WHERE id = %(a)s",
        a=who.account,
    )
    return row


def inbound(engine: Engine) -> list[dict[str, Any]]:
    return rows(
        engine,
        "SELECT external_id, content, metadata FROM whatsapp_messages "
        "WHERE direction = 'inbound' ORDER BY delivered_at",
    )


def review(engine: Engine) -> list[dict[str, Any]]:
    return rows(engine, "SELECT kind, sender, reason FROM webhook_review_items ORDER BY kind")


@pytest.mark.parametrize("legacy", [False, True], ids=["user_changed_number", "customer_changed"])
def test_a_number_change_moves_the_account_to_the_new_number(engine: Engine, legacy: bool) -> None:
    ana = traveller(engine)
    notice = meta.number_changed(ana.phone, "+" + NEW_NUMBER, T0, legacy=legacy)
    report = deliver(engine, notice)
    assert account(engine, ana) == {"phone_number": NEW_NUMBER, "country_code": "PT"}
    assert (report.notices, report.inbound_stored) == ({"number_changed": 1}, 0)
    assert inbound(engine) == []
    [row] = review(engine)
    assert (row["kind"], row["sender"]) == ("number_changed", ana.phone)
    assert row["reason"].startswith(f"applied: account {ana.account} now has number")
    # later replies from the new number reach the same traveller
    deliver(engine, meta.text_message(NEW_NUMBER, "new phone, same me", T0 + S))
    owner = scalar(engine, "SELECT user_id FROM whatsapp_messages WHERE direction = 'inbound'")
    assert owner == ana.user


def test_a_number_change_to_a_number_another_account_has_is_left_for_review(
    engine: Engine,
) -> None:
    ana, bea = traveller(engine), traveller(engine, phone=NEW_NUMBER)
    report = deliver(engine, meta.number_changed(ana.phone, NEW_NUMBER, T0))
    assert account(engine, ana)["phone_number"] == ana.phone
    assert account(engine, bea)["phone_number"] == NEW_NUMBER
    [row] = review(engine)
    assert row["reason"].startswith("not applied")
    assert (report.failed, report.inbound_stored) == (0, 0)


def test_an_identity_change_is_recorded_for_review_once(engine: Engine) -> None:
    ana = traveller(engine)
    notice = meta.identity_changed(ana.phone, T0)
    deliver(engine, notice)
    deliver(engine, notice, meta.text_message(ana.phone, "hi", T0))  # re-delivered
    assert [row["kind"] for row in review(engine)] == ["identity_changed"]
    assert [row["content"] for row in inbound(engine)] == ["hi"]


def test_an_edit_replaces_the_content_and_keeps_the_original(engine: Engine) -> None:
    ana = traveller(engine)
    first = meta.text_message(ana.phone, "See you at 9", T0)
    later = meta.edit(ana.phone, first["id"], "See you at 10", T0 + 2 * S)
    report = deliver(engine, first, later)  # the edit may come with its original
    assert report.notices == {"edit": 1}
    [row] = inbound(engine)
    assert (row["external_id"], row["content"]) == (first["id"], "See you at 10")
    assert row["metadata"]["original_content"] == "See you at 9"
    older = meta.edit(ana.phone, first["id"], "See you at 8", T0 + S)
    deliver(engine, older, later)  # late and repeated edits change nothing
    [row] = inbound(engine)
    assert row["content"] == "See you at 10"
    assert row["metadata"]["original_content"] == "See you at 9"


def test_a_revoke_marks_the_message_revoked(engine: Engine) -> None:
    ana = traveller(engine)
    first = meta.text_message(ana.phone, "oops, wrong chat", T0)
    deliver(engine, first)
    report = deliver(engine, meta.revoke(ana.phone, first["id"], T0 + S))
    assert report.notices == {"revoke": 1}
    [row] = inbound(engine)
    assert row["metadata"]["revoked_at"] is not None
    assert row["external_id"] == first["id"]


def test_an_edit_of_someone_elses_or_an_unknown_message_is_left_for_review(
    engine: Engine,
) -> None:
    ana, bea = traveller(engine), traveller(engine)
    first = meta.text_message(ana.phone, "mine", T0)
    deliver(engine, first)
    deliver(
        engine,
        meta.edit(bea.phone, first["id"], "hijacked", T0 + S),
        meta.revoke(ana.phone, "wamid.unknown", T0 + S),
    )
    assert [row["content"] for row in inbound(engine)] == ["mine"]
    assert [row["kind"] for row in review(engine)] == ["edit", "revoke"]
