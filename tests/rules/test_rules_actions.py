# ruff: noqa: E501 - case tables keep one case per line, with full one-line messages
from __future__ import annotations

import pytest

from tripcast.rules.actions import (
    ACTION_TYPES,
    UPDATABLE_TRIP_FIELDS,
    RunAiAgentAction,
    SendEmailAction,
    SendWhatsAppAction,
    UpdateTripAction,
    parse_action_config,
    template_message,
)
from tripcast.rules.config_errors import InvalidRuleConfig


@pytest.mark.parametrize(
    ("action_type", "raw", "expected"),
    [
        ("send_whatsapp", {"template": "trip_reminder"}, SendWhatsAppAction(template="trip_reminder", language="en_US")),
        ("send_whatsapp", '{"template": "budget_alert_2", "language": "pt_BR", "category": "marketing"}', SendWhatsAppAction(template="budget_alert_2", language="pt_BR", category="marketing")),
        ("send_whatsapp", {"template": "t", "language": "fil"}, SendWhatsAppAction(template="t", language="fil")),
        ("send_whatsapp", {"template": "t", "parameters": ["{trip.title}", "on {trip.start_date}", "{{literal}}"]}, SendWhatsAppAction(template="t", parameters=["{trip.title}", "on {trip.start_date}", "{{literal}}"])),
        ("send_whatsapp", {"template": "t", "text": "Your trip {trip.title} starts soon"}, SendWhatsAppAction(template="t", text="Your trip {trip.title} starts soon")),
        ("send_email", {"subject": "Budget at {budget.percent}%", "body": "Hi"}, SendEmailAction(subject="Budget at {budget.percent}%", body="Hi")),
        ("send_email", {"subject": "s", "body": "b", "to": "ana.silva+trips@example.co.uk"}, SendEmailAction(subject="s", body="b", to="ana.silva+trips@example.co.uk")),
        ("update_trip", {"fields": {"status": "active"}}, UpdateTripAction(fields={"status": "active"})),
        ("update_trip", {"fields": {"notes": None, "metadata": {"reminded": True, "n": [1, 2.5]}}}, UpdateTripAction(fields={"notes": None, "metadata": {"reminded": True, "n": [1, 2.5]}})),
        ("run_ai_agent", {"deployment": "suggest-activities/nightly"}, RunAiAgentAction(deployment="suggest-activities/nightly", parameters={})),
        ("run_ai_agent", {"deployment": "a/b", "parameters": {"k": {"x": [None]}}, "timeout_seconds": 90}, RunAiAgentAction(deployment="a/b", parameters={"k": {"x": [None]}}, timeout_seconds=90.0)),
    ],
)  # fmt: skip
def test_valid_action_configs(action_type: str, raw: object, expected: object) -> None:
    assert parse_action_config(action_type, raw) == expected


WA = "send_whatsapp action_config"


@pytest.mark.parametrize(
    ("action_type", "raw", "message"),
    [
        ("send_whatsapp", {}, f"{WA}.template is required"),
        ("send_whatsapp", {"template": "Trip Reminder"}, f"{WA}.template must be a template name of lowercase letters, digits and underscores, got 'Trip Reminder'"),
        ("send_whatsapp", {"template": "trip-reminder"}, f"{WA}.template must be a template name of lowercase letters, digits and underscores, got 'trip-reminder'"),
        ("send_whatsapp", {"template": ""}, f"{WA}.template must be a template name of lowercase letters, digits and underscores, got ''"),
        ("send_whatsapp", {"template": 12}, f"{WA}.template must be a template name of lowercase letters, digits and underscores, got 12"),
        ("send_whatsapp", {"template": "t", "language": "english"}, f"{WA}.language must be a WhatsApp language code such as 'en_US' or 'pt_BR', got 'english'"),
        ("send_whatsapp", {"template": "t", "category": "spam"}, f"{WA}.category must be one of trip_reminders, booking_confirmations, itinerary_updates, budget_alerts, ai_suggestions, collaborator_updates, marketing, got 'spam'"),
        ("send_whatsapp", {"template": "t", "parameters": "{trip.title}"}, f"{WA}.parameters must be a list of strings, got '{{trip.title}}'"),
        ("send_whatsapp", {"template": "t", "parameters": ["ok", 3]}, f"{WA}.parameters[1]: input should be a valid string, got 3"),
        ("send_whatsapp", {"template": "t", "parameters": ["{trip.titel}"]}, f"{WA}.parameters[0] uses unknown placeholder {{trip.titel}} (known: trip.days_until, trip.destination, trip.end_date, trip.id, trip.start_date, trip.status, trip.title)"),
        ("send_whatsapp", {"template": "t", "parameters": ["{user.name}"]}, f"{WA}.parameters[0] uses unknown placeholder {{user.name}} (known: {{trip.*}}, {{budget.*}}, {{booking.*}})"),
        ("send_whatsapp", {"template": "t", "parameters": ["{trip.title"]}, f"{WA}.parameters[0] has an unmatched '{{' (write {{{{ for a literal brace)"),
        ("send_whatsapp", {"template": "t", "parameters": ["50% off}"]}, f"{WA}.parameters[0] has an unmatched '}}' (write }}}} for a literal brace)"),
        ("send_whatsapp", {"template": "t", "parameters": [" "]}, f"{WA}.parameters[0] must not be blank, got ' '"),
        ("send_whatsapp", {"template": "t", "text": ""}, f"{WA}.text must not be blank, got ''"),
        ("send_whatsapp", {"template": "t", "text": "x" * 4097}, f"{WA}.text must be a non-blank string of at most 4096 characters, got '{'x' * 56}..."),
        ("send_whatsapp", {"template": "t", "body": "hi"}, f"{WA} has unknown field 'body' (allowed: template, language, category, parameters, text, sender)"),
        ("send_whatsapp", "not json", f"{WA} is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        ("send_email", {"subject": "Hi\r\nBcc: all@example.com", "body": "b"}, "send_email action_config.subject must be a single line (no line breaks), got 'Hi\\r\\nBcc: all@example.com'"),
        ("send_email", {"subject": "s"}, "send_email action_config.body is required"),
        ("send_email", {"subject": "s" * 999, "body": "b"}, f"send_email action_config.subject must be a non-blank single line of at most 998 characters, got '{'s' * 56}..."),
        ("send_email", {"subject": "s", "body": "b", "to": "ana@example"}, "send_email action_config.to must be one email address such as 'ana@example.com', got 'ana@example'"),
        ("send_email", {"subject": "s", "body": "b", "to": "a@x.com, b@y.com"}, "send_email action_config.to must be one email address such as 'ana@example.com', got 'a@x.com, b@y.com'"),
        ("send_email", {"subject": "s", "body": "{budget.pct}"}, "send_email action_config.body uses unknown placeholder {budget.pct} (known: budget.currency, budget.percent, budget.remaining, budget.spent, budget.threshold, budget.total)"),
        ("update_trip", {}, "update_trip action_config.fields is required"),
        ("update_trip", {"fields": {}}, "update_trip action_config.fields must be a non-empty JSON object of status, notes, metadata, got {}"),
        ("update_trip", {"fields": ["status"]}, "update_trip action_config.fields must be a non-empty JSON object of status, notes, metadata, got ['status']"),
        ("update_trip", {"fields": {"title": "x"}}, "update_trip action_config.fields has unknown field 'title' (allowed: status, notes, metadata)"),
        ("update_trip", {"fields": {"user_id": "x"}}, "update_trip action_config.fields has unknown field 'user_id' (allowed: status, notes, metadata)"),
        ("update_trip", {"fields": {"status": "done"}}, "update_trip action_config.fields.status must be one of planning, upcoming, active, completed, cancelled, got 'done'"),
        ("update_trip", {"fields": {"notes": 5}}, "update_trip action_config.fields.notes must be a string of at most 10000 characters or null, got 5"),
        ("update_trip", {"fields": {"metadata": [1]}}, "update_trip action_config.fields.metadata must be a JSON object, got [1]"),
        ("update_trip", {"fields": {"metadata": {"when": {1, 2}}}}, "update_trip action_config.fields.metadata must hold only JSON values (string keys), got {'when': {1, 2}}"),
        ("run_ai_agent", {"deployment": "nightly"}, "run_ai_agent action_config.deployment must be 'flow-name/deployment-name', got 'nightly'"),
        ("run_ai_agent", {"deployment": "a/b/c"}, "run_ai_agent action_config.deployment must be 'flow-name/deployment-name', got 'a/b/c'"),
        ("run_ai_agent", {"deployment": "a/ b"}, "run_ai_agent action_config.deployment must be 'flow-name/deployment-name', got 'a/ b'"),
        ("run_ai_agent", {"deployment": None}, "run_ai_agent action_config.deployment must be 'flow-name/deployment-name', got None"),
        ("run_ai_agent", {"deployment": "a/b", "parameters": "x=1"}, "run_ai_agent action_config.parameters must be a JSON object, got 'x=1'"),
        ("run_ai_agent", {"deployment": "a/b", "timeout_seconds": 0}, "run_ai_agent action_config.timeout_seconds must be a number of seconds greater than 0 and at most 86400, got 0"),
        ("run_ai_agent", {"deployment": "a/b", "timeout_seconds": "60"}, "run_ai_agent action_config.timeout_seconds must be a number of seconds greater than 0 and at most 86400, got '60'"),
        ("send_sms", {}, "unknown action_type 'send_sms' (expected one of: send_whatsapp, send_email, run_ai_agent, update_trip)"),
        ("send_whatsapp", [], f"{WA} must be a JSON object, got an array"),
    ],
)  # fmt: skip
def test_invalid_action_configs(action_type: str, raw: object, message: str) -> None:
    with pytest.raises(InvalidRuleConfig) as caught:
        parse_action_config(action_type, raw)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_seed_examples_parse() -> None:
    reminder = parse_action_config("send_whatsapp", {"template": "trip_reminder"})
    alert = parse_action_config("send_whatsapp", {"template": "budget_alert"})
    assert isinstance(reminder, SendWhatsAppAction)
    assert isinstance(alert, SendWhatsAppAction)
    assert (reminder.template, reminder.language, reminder.parameters) == (
        "trip_reminder",
        "en_US",
        [],
    )


def test_whitelist_constant() -> None:
    assert UPDATABLE_TRIP_FIELDS == ("status", "notes", "metadata")
    assert set(ACTION_TYPES) == {"send_whatsapp", "send_email", "run_ai_agent", "update_trip"}


@pytest.mark.parametrize(
    ("rendered", "components"),
    [
        ([], []),
        (
            ["Lisbon", "2025-06-01"],
            [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Lisbon"},
                        {"type": "text", "text": "2025-06-01"},
                    ],
                }
            ],
        ),
    ],
)
def test_template_message(rendered: list[str], components: list[object]) -> None:
    action = SendWhatsAppAction(template="trip_reminder", language="pt_PT")
    assert template_message(action, rendered) == {
        "name": "trip_reminder",
        "language": {"code": "pt_PT"},
        "components": components,
    }
