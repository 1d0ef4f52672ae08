"""The one writer of outbound messages, on a real PostgreSQL: what a written row holds,
what the outbox trigger fills in, and input refused with nothing written."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Connection, Engine

from tests.support.world import Traveller, make_traveller
from tripcast.models.messages import OutboundMessageCreate
from tripcast.outbox import UnknownRecipient, write_outbound

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TEMPLATE = {"name": "trip_reminder", "language": {"code": "en_US"}, "components": []}


def message(traveller: Traveller, **fields: Any) -> OutboundMessageCreate:
    values: dict[str, Any] = {
        "user_id": traveller.user,
        "whatsapp_account_id": traveller.account,
        "message_type": "text",
        "content": "Your trip to Lisbon starts tomorrow",
        **fields,
    }
    return OutboundMessageCreate(**values)


def row(connection: Connection, message_id: uuid.UUID) -> dict[str, Any]:
    found = connection.exec_driver_sql(
        "SELECT * FROM whatsapp_messages WHERE id = %(id)s", {"id": message_id}
    )
    return dict(found.mappings().one())


def outbound_count(connection: Connection) -> int:
    count: int = connection.exec_driver_sql(
        "SELECT count(*) FROM whatsapp_messages WHERE direction = 'outbound'"
    ).scalar_one()
    return count


def test_a_template_message_is_written_pending_with_its_metadata(engine: Engine) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        written = write_outbound(
            connection,
            message(
                traveller,
                message_type="template",
                content="[trip_reminder] Lisbon",
                template=TEMPLATE,
                category="trip_reminders",
                sender="106540352242922",
                meta={"source": "test"},
                next_attempt_at=NOW,
            ),
        )
        stored = row(connection, written)
    assert stored["status"] == "pending" and stored["direction"] == "outbound"
    assert stored["message_type"] == "template"
    assert stored["whatsapp_account_id"] == traveller.account
    assert stored["next_attempt_at"] == NOW
    assert stored["metadata"] == {
        "template": TEMPLATE,
        "category": "trip_reminders",
        "sender": "106540352242922",
        "source": "test",
    }
    assert stored["priority"] == 1  # a notification category dispatches as utility
    assert stored["expires_at"] is None  # no default expiry for it


def test_the_category_sets_priority_and_the_trigger_default_expiry(engine: Engine) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        code = write_outbound(
            connection,
            message(
                traveller, message_type="template", template=TEMPLATE, category="authentication"
            ),
        )
        offer = write_outbound(connection, message(traveller, category="marketing"))
        chosen = write_outbound(
            connection, message(traveller, category="marketing", expires_at=NOW)
        )
        code_row, offer_row = row(connection, code), row(connection, offer)
        chosen_row = row(connection, chosen)
    assert code_row["priority"] == 0 and offer_row["priority"] == 3
    assert code_row["expires_at"] - code_row["created_at"] == timedelta(minutes=10)
    assert offer_row["expires_at"] - offer_row["created_at"] == timedelta(hours=24)
    assert chosen_row["expires_at"] == NOW  # the writer's expiry wins over the default


def test_a_repeated_dedupe_key_returns_the_first_row_and_writes_nothing(engine: Engine) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        first = write_outbound(connection, message(traveller, dedupe_key="rule:1:2026-12-02"))
        again = write_outbound(
            connection, message(traveller, dedupe_key="rule:1:2026-12-02", content="other")
        )
        assert again == first
        assert outbound_count(connection) == 1
        assert row(connection, first)["content"] == "Your trip to Lisbon starts tomorrow"


def test_an_account_that_is_not_the_users_is_refused_and_nothing_is_written(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        ana, bruno = make_traveller(connection), make_traveller(connection)
        crossed = message(ana, whatsapp_account_id=bruno.account)
        with pytest.raises(UnknownRecipient, match="is not user"):
            write_outbound(connection, crossed)
        with pytest.raises(UnknownRecipient):
            write_outbound(connection, message(ana, whatsapp_account_id=uuid.uuid4()))
        assert outbound_count(connection) == 0


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"category": "newsletters"}, "unknown message category 'newsletters'"),
        ({"sender": "+1 555"}, "is not a phone number id"),
        ({"message_type": "template"}, "a template message needs its template"),
        ({"template": {"language": {"code": "en"}}}, "a template needs a non-empty 'name'"),
        ({"template": {"name": "digest"}}, "a template needs 'language'"),
        ({"meta": {"category": "marketing"}}, "metadata may not set category"),
        ({"message_type": "image"}, "message_type"),
        ({"expires_at": datetime(2026, 12, 3)}, "timezone"),
    ],
)
def test_bad_input_is_refused_with_its_reason_before_anything_is_written(
    engine: Engine, fields: dict[str, Any], error: str
) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        with pytest.raises(ValidationError, match=error):
            write_outbound(connection, message(traveller, **fields))
        assert outbound_count(connection) == 0
