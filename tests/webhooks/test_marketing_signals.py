"""Meta's consent signal: ``user_preferences`` and error 131050 set marketing consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.support.world import set_preferences
from tests.webhooks import meta
from tests.webhooks.builders import Traveller, make_outbound, make_traveller, rows, store_delivery
from tests.webhooks.test_with_fake_cloud_api import fake_config
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver
from tripcast.whatsapp.fake import running_fake_cloud_api
from tripcast.whatsapp.fake.identity import bsuid_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def preference(who: Traveller, value: str, at: datetime, *, bsuid: str | None = None) -> dict:
    """A ``user_preferences`` delivery shaped as Meta's webhook reference shows it."""
    item: dict[str, Any] = {
        "wa_id": who.phone,
        "detail": f"User requested to {value} marketing messages",
        "category": "marketing_messages",
        "value": value,
        "timestamp": int(at.timestamp()),
    }
    if bsuid is not None:
        del item["wa_id"]
        item["user_id"] = bsuid
    value_body = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1065"},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": who.phone}],
        "user_preferences": [item],
    }
    change = {"value": value_body, "field": "user_preferences"}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}


def deliver(engine: Engine, *payloads: dict[str, Any], now: datetime) -> Any:
    with engine.begin() as connection:
        for payload in payloads:
            store_delivery(connection, payload)
    return drain(engine, now=now)


def marketing(engine: Engine, who: Traveller) -> bool | None:
    found = rows(engine, "SELECT marketing FROM notification_preferences WHERE user_id = %(u)s",
                 u=who.user)  # fmt: skip
    return found[0]["marketing"] if found else None


def events(engine: Engine) -> list[tuple[Any, ...]]:
    found = rows(
        engine,
        "SELECT source, intent, outcome, previous_status, new_status, occurred_at "
        "FROM consent_events ORDER BY occurred_at, recorded_at",
    )
    return [tuple(row.values()) for row in found]


def test_stop_then_resume_sets_marketing_and_is_recorded_once(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        set_preferences(connection, user_id=ana.user, marketing=True)
    stop, again = preference(ana, "stop", T0), preference(ana, "stop", T0)
    again["entry"][0]["id"] = "2"  # the same item in another delivery: applied once
    report = deliver(engine, stop, again, now=T0 + S)
    assert (report.marketing_stopped, report.unused.get("field:user_preferences")) == (1, None)
    assert marketing(engine, ana) is False
    deliver(engine, preference(ana, "resume", T0 + 60 * S), now=T0 + 61 * S)
    assert marketing(engine, ana) is True
    assert events(engine) == [
        ("user_preferences", "stop", "opted_out", "marketing_on", "marketing_off", T0),
        ("user_preferences", "start", "opted_in", "marketing_off", "marketing_on", T0 + 60 * S),
    ]
    opt_in = rows(engine, "SELECT opt_in_status FROM whatsapp_accounts WHERE id = %(a)s",
                  a=ana.account)  # fmt: skip
    assert opt_in == [{"opt_in_status": "opted_in"}]  # WhatsApp itself stays allowed


def test_a_late_older_signal_does_not_undo_a_newer_one(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
    deliver(engine, preference(ana, "resume", T0 + 60 * S), now=T0 + 61 * S)
    report = deliver(engine, preference(ana, "stop", T0), now=T0 + 62 * S)
    assert report.marketing_unchanged == 1
    assert marketing(engine, ana) is True
    assert [e[2] for e in events(engine)] == ["stale", "opted_in"]


def test_a_signal_by_bsuid_only_reaches_its_account(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        set_preferences(connection, user_id=ana.user, marketing=True)
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET bsuid = 'PT.901' WHERE id = %(a)s", {"a": ana.account}
        )
    deliver(engine, preference(ana, "stop", T0, bsuid="PT.901"), now=T0 + S)
    assert marketing(engine, ana) is False


def test_a_signal_for_no_account_of_ours_is_counted_and_changes_nothing(engine: Engine) -> None:
    stranger = Traveller(user=None, account=None, phone="14155550100")  # type: ignore[arg-type]
    report = deliver(engine, preference(stranger, "stop", T0), now=T0 + S)
    assert report.marketing_unmatched == 1
    assert events(engine) == []


def test_a_failed_status_with_131050_stops_marketing(engine: Engine) -> None:
    wamid = meta.new_wamid()
    with engine.begin() as connection:
        ana = make_traveller(connection)
        set_preferences(connection, user_id=ana.user, marketing=True)
        make_outbound(connection, ana, status="sent", wamid=wamid)
    error = meta.meta_error(131050, "Unable to deliver the message")
    failed = meta.status(wamid, "failed", T0, recipient=ana.phone, errors=[error])
    report = deliver(engine, meta.payload(statuses=[failed]), now=T0 + S)
    assert report.marketing_stopped == 1
    assert marketing(engine, ana) is False
    assert events(engine) == [
        ("error_131050", "stop", "opted_out", "marketing_on", "marketing_off", T0)
    ]


def test_the_fake_cloud_apis_user_preferences_webhook_is_applied(
    receiver: BackgroundReceiver, engine: Engine
) -> None:
    with engine.begin() as connection:
        ana, bea = make_traveller(connection), make_traveller(connection)
        for who in (ana, bea):
            set_preferences(connection, user_id=who.user, marketing=True)
        connection.exec_driver_sql(  # Bea has a username: Meta sends only her BSUID
            "UPDATE whatsapp_accounts SET bsuid = %(b)s WHERE id = %(a)s",
            {"b": bsuid_for(bea.phone), "a": bea.account},
        )
    config = fake_config(receiver).model_copy(update={"username_numbers": [bea.phone]})
    with running_fake_cloud_api(config) as fake:
        fake.send_user_preference(ana.phone, "stop")
        fake.send_user_preference(bea.phone, "stop")
        assert fake.wait_for_webhooks()["updates_delivered"] == 2
    report = drain(engine)
    assert (report.marketing_stopped, report.marketing_unmatched) == (2, 0)
    assert (marketing(engine, ana), marketing(engine, bea)) == (False, False)
