from __future__ import annotations

import pytest

from tripcast.rules.categories import (
    CATEGORIES,
    SEED_DEFAULTS,
    default_category,
    gate,
    preference,
)
from tripcast.rules.config_errors import InvalidRuleConfig


@pytest.mark.parametrize(
    ("trigger_type", "action_type", "configured", "category"),
    [
        ("trip_start", "send_whatsapp", None, "trip_reminders"),
        ("trip_end", "send_email", None, "trip_reminders"),
        ("booking_pending", "send_whatsapp", None, "booking_confirmations"),
        ("budget_exceeded", "send_whatsapp", None, "budget_alerts"),
        ("schedule", "send_whatsapp", None, "itinerary_updates"),
        ("trip_start", "run_ai_agent", None, "ai_suggestions"),
        ("schedule", "run_ai_agent", None, "ai_suggestions"),
        ("trip_start", "update_trip", None, "trip_reminders"),
        ("schedule", "send_whatsapp", "marketing", "marketing"),
        ("budget_exceeded", "send_whatsapp", "collaborator_updates", "collaborator_updates"),
    ],
)
def test_default_category(
    trigger_type: str, action_type: str, configured: str | None, category: str
) -> None:
    assert default_category(trigger_type, action_type, configured=configured) == category


@pytest.mark.parametrize(
    ("trigger_type", "action_type", "configured", "message"),
    [
        ("trip_begin", "send_whatsapp", None, "unknown trigger_type 'trip_begin'"),
        ("trip_start", "send_sms", None, "unknown action_type 'send_sms'"),
        ("trip_start", "send_whatsapp", "promos", "unknown notification category 'promos'"),
    ],
)
def test_default_category_errors(
    trigger_type: str, action_type: str, configured: str | None, message: str
) -> None:
    with pytest.raises(InvalidRuleConfig, match=message):
        default_category(trigger_type, action_type, configured=configured)


def test_seed_defaults_match_the_seed_columns() -> None:
    assert {key: SEED_DEFAULTS[key] for key in CATEGORIES} == {
        "trip_reminders": True,
        "booking_confirmations": True,
        "itinerary_updates": True,
        "budget_alerts": True,
        "ai_suggestions": True,
        "collaborator_updates": True,
        "marketing": False,
    }
    assert SEED_DEFAULTS["quiet_hours_enabled"] is False
    assert SEED_DEFAULTS["timezone"] == "UTC"
    with pytest.raises(TypeError):
        SEED_DEFAULTS["marketing"] = True  # type: ignore[index]


@pytest.mark.parametrize(
    ("preferences", "category", "reason"),
    [
        (None, "trip_reminders", None),
        (None, "budget_alerts", None),
        (None, "marketing", "marketing_not_allowed"),
        ({}, "marketing", "marketing_not_allowed"),
        ({"marketing": True}, "marketing", None),
        ({"marketing": None}, "marketing", "marketing_not_allowed"),  # NULL → seed default
        ({"budget_alerts": False}, "budget_alerts", "category_disabled:budget_alerts"),
        ({"budget_alerts": False}, "trip_reminders", None),
        ({"budget_alerts": None}, "budget_alerts", None),  # NULL → seed default (on)
        ({"ai_suggestions": False}, "ai_suggestions", "category_disabled:ai_suggestions"),
        ({"trip_reminders": 0}, "trip_reminders", "category_disabled:trip_reminders"),
        ({"marketing": "yes"}, "marketing", "marketing_not_allowed"),  # only true enables
    ],
)
def test_gate(preferences: dict[str, object] | None, category: str, reason: str | None) -> None:
    assert gate(preferences, category) == reason


def test_gate_rejects_unknown_category() -> None:
    with pytest.raises(InvalidRuleConfig, match="unknown notification category 'sms'"):
        gate(None, "sms")


def test_preference_falls_back_to_seed_defaults() -> None:
    assert preference(None, "timezone") == "UTC"
    assert preference({"timezone": "Europe/Lisbon"}, "timezone") == "Europe/Lisbon"
    assert preference({"timezone": None}, "timezone") == "UTC"
    with pytest.raises(KeyError):
        preference({}, "colour")
