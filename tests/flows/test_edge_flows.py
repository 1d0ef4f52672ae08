"""The seed's edge functions as flows: send-whatsapp-message and trigger-automation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.support.world import make_account, make_rule, make_trip, make_user

pytestmark = pytest.mark.usefixtures("prefect_harness")


def messages(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [
            dict(row)
            for row in connection.exec_driver_sql("SELECT * FROM whatsapp_messages").mappings()
        ]


def test_send_whatsapp_message_sends_now(configured: Engine, fake_whatsapp: Any) -> None:
    from tripcast.flows.edge import send_whatsapp_message

    with configured.begin() as connection:
        user = make_user(connection)
        account = make_account(connection, user_id=user)
        trip = make_trip(connection, user_id=user, start=date(2026, 5, 2))
        # The traveller wrote to us an hour ago: free text is allowed (24-hour window).
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET last_inbound_at = now() - interval '1 hour' "
            "WHERE id = %(a)s",
            {"a": account},
        )
    fake_whatsapp.set_config(enforce_service_window=False)
    result = send_whatsapp_message(user_id=user, trip_id=trip, message="Your gate changed: B12")
    assert result["success"] is True
    assert result["status"] == "sent"
    (row,) = messages(configured)
    assert (row["content"], row["trip_id"], row["message_type"]) == (
        "Your gate changed: B12",
        trip,
        "text",
    )
    assert row["external_id"] == result["external_id"]
    assert fake_whatsapp.accepted_count(str(row["id"])) == 1


def test_free_text_outside_the_24_hour_window_fails_with_reason(
    configured: Engine, fake_whatsapp: Any
) -> None:
    from tripcast.flows.edge import send_whatsapp_message

    with configured.begin() as connection:
        user = make_user(connection)
        make_account(connection, user_id=user)
    result = send_whatsapp_message(user_id=user, message="Hello there")
    assert result["success"] is False
    assert result["status"] == "failed"
    assert "24h window" in result["failed_reason"]
    assert fake_whatsapp.state()["accepted"] == 0


@pytest.mark.parametrize("opt_in_status", [None, "pending", "opted_out"])
def test_send_whatsapp_message_refuses_without_opted_in_account(
    configured: Engine, fake_whatsapp: Any, opt_in_status: str | None
) -> None:
    from tripcast.flows.edge import send_whatsapp_message

    with configured.begin() as connection:
        user = make_user(connection)
        if opt_in_status is not None:
            make_account(connection, user_id=user, opt_in_status=opt_in_status)
    state = send_whatsapp_message(user_id=user, message="hi", return_state=True)
    assert state.is_failed()
    assert state.message == "No WhatsApp account or not opted in"
    assert messages(configured) == []
    assert fake_whatsapp.state()["accepted"] == 0


def test_send_whatsapp_message_refuses_an_empty_message(configured: Engine) -> None:
    from tripcast.flows.edge import send_whatsapp_message

    with configured.begin() as connection:
        user = make_user(connection)
        make_account(connection, user_id=user)
    state = send_whatsapp_message(user_id=user, message="   ", return_state=True)
    assert state.is_failed()
    assert state.message == "message must be 1 to 4096 characters"
    assert messages(configured) == []


def test_trigger_automation_processes_active_rules(configured: Engine) -> None:
    from tripcast.flows.edge import trigger_automation

    with configured.begin() as connection:
        user = make_user(connection)
        make_account(connection, user_id=user)
        make_trip(connection, user_id=user, start=date(2026, 5, 2))
        make_rule(
            connection, user_id=user, trigger_type="trip_start", trigger_config={"days_before": 1}
        )
        make_rule(
            connection,
            user_id=user,
            trigger_type="trip_end",
            trigger_config={"days_after": 1},
            active=False,
        )
    result = trigger_automation(now=datetime(2026, 5, 1, 9, tzinfo=UTC))
    assert result["processed"] == 1
    assert result["jobs"] == {"completed:send_whatsapp": 1}
    (row,) = messages(configured)
    assert row["status"] == "pending"  # queued for the next dispatch


def test_send_whatsapp_message_hands_its_row_to_a_running_follower(
    configured: Engine, fake_whatsapp: Any
) -> None:
    import time

    from tripcast.commands.dispatch import start_follower_thread
    from tripcast.dispatch.handoff import follower_listening
    from tripcast.flows.edge import send_whatsapp_message

    with configured.begin() as connection:
        user = make_user(connection)
        account = make_account(connection, user_id=user)
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET last_inbound_at = now() - interval '1 hour' "
            "WHERE id = %(a)s",
            {"a": account},
        )
    fake_whatsapp.set_config(enforce_service_window=False)
    sent_by_follower: list[str] = []
    stop = start_follower_thread(
        configured,
        on_batch=lambda done: sent_by_follower.extend(
            str(o.message_id) for o in done.outcomes if o.kind == "sent"
        ),
    )
    try:
        deadline = time.monotonic() + 30
        while not follower_listening(configured):
            assert time.monotonic() < deadline, "the follower never started listening"
            time.sleep(0.02)
        result = send_whatsapp_message(user_id=user, message="Boarding at gate B12")
    finally:
        stop()
    assert (result["success"], result["status"]) == (True, "sent")
    assert sent_by_follower == [result["message_id"]]
    assert fake_whatsapp.accepted_count(result["message_id"]) == 1
