"""The template webhook fields keep the catalog current, through the ordinary ingest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from tests.dispatch.builders import make_traveller, message, queue_message
from tests.webhooks.builders import store_delivery
from tripcast.templates.events import template_events
from tripcast.webhooks.ingest import drain

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
WABA = "200000000000001"


def delivery(field: str, value: dict[str, Any]) -> dict[str, Any]:
    change = {"field": field, "value": value}
    entry = {"id": WABA, "time": 1764669600, "changes": [change]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


def status_update(event: str, *, language: str = "en-US", reason: str = "NONE") -> dict[str, Any]:
    return delivery(
        "message_template_status_update",
        {
            "event": event,
            "message_template_id": 806312974732579,
            "message_template_name": "trip_reminder",
            "message_template_language": language,
            "reason": reason,
            "message_template_category": "UTILITY",
        },
    )


def seed(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO whatsapp_templates (name, language, status, category, quality)"
            " VALUES ('trip_reminder', 'en_US', 'APPROVED', 'UTILITY', 'GREEN')"
        )


def ingest(engine: Engine, *payloads: dict[str, Any]) -> Any:
    with engine.begin() as connection:
        for payload in payloads:
            store_delivery(connection, payload)
    return drain(engine, now=NOW)


def row(engine: Engine) -> tuple[Any, ...]:
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT status, quality, category, status_reason, meta_template_id"
            " FROM whatsapp_templates WHERE name = 'trip_reminder' AND language = 'en_US'"
        ).one()
    return tuple(found)


def test_status_events_pause_disable_and_reinstate(engine: Engine) -> None:
    seed(engine)
    report = ingest(engine, status_update("PAUSED", reason="LOW_QUALITY"))
    assert report.template_updates == 1
    status, _, _, reason, _ = row(engine)
    assert (status, reason) == ("PAUSED", "LOW_QUALITY")
    ingest(engine, status_update("REINSTATED"))
    assert row(engine)[0] == "APPROVED"
    ingest(engine, status_update("FLAGGED"))  # still sendable: no change
    assert row(engine)[0] == "APPROVED"
    ingest(engine, status_update("DISABLED", reason="INCORRECT_CATEGORY"))
    assert row(engine)[0] == "DISABLED"
    assert row(engine)[4] == "806312974732579"


def test_quality_and_category_updates(engine: Engine) -> None:
    seed(engine)
    quality = {
        "previous_quality_score": "GREEN",
        "new_quality_score": "YELLOW",
        "message_template_id": 806312974732579,
        "message_template_name": "trip_reminder",
        "message_template_language": "en_US",
    }
    category = {
        "message_template_id": 806312974732579,
        "message_template_name": "trip_reminder",
        "message_template_language": "en_US",
        "previous_category": "UTILITY",
        "new_category": "MARKETING",
    }
    report = ingest(
        engine,
        delivery("message_template_quality_update", quality),
        delivery("template_category_update", category),
    )
    assert report.template_updates == 2
    assert row(engine)[1:3] == ("YELLOW", "MARKETING")


def test_an_unknown_template_is_learned_from_its_status_event(engine: Engine) -> None:
    ingest(engine, status_update("APPROVED", language="pt_BR"))
    with engine.connect() as connection:
        learned = connection.exec_driver_sql(
            "SELECT name, language, status, waba_id FROM whatsapp_templates"
        ).all()
    assert [tuple(r) for r in learned] == [("trip_reminder", "pt_BR", "APPROVED", WABA)]


def test_reinstatement_releases_waiting_messages_at_once(engine: Engine) -> None:
    seed(engine)
    template = {"name": "trip_reminder", "language": {"code": "en_US"}, "components": []}
    later = datetime(2026, 12, 2, 10, 5, tzinfo=UTC)
    with engine.begin() as connection:
        who = make_traveller(connection)
        waiting = queue_message(
            connection,
            who,
            message_type="template",
            metadata={"template": template},
            next_attempt_at=later,
        )
    ingest(engine, status_update("REINSTATED"))
    assert message(engine, waiting)["next_attempt_at"] == NOW


def test_values_without_a_template_name_are_skipped() -> None:
    broken = delivery("message_template_status_update", {"event": "PAUSED"})
    other = delivery("account_update", {"event": "VERIFIED_ACCOUNT"})
    assert template_events(broken) == []
    assert template_events(other) == []
