# ruff: noqa: E501 - case tables keep one case per line, with full one-line messages
from __future__ import annotations

import pytest

from tripcast.rules.actions import SendWhatsAppAction
from tripcast.rules.config_errors import InvalidRuleConfig
from tripcast.rules.rule import parse_rule
from tripcast.rules.triggers import TripStartTrigger


def test_parse_rule_seed_example() -> None:
    rule = parse_rule(
        trigger_type="trip_start",
        trigger_config={"days_before": 1},
        action_type="send_whatsapp",
        action_config={"template": "trip_reminder"},
    )
    assert rule.trigger == TripStartTrigger(days_before=1)
    assert rule.action == SendWhatsAppAction(template="trip_reminder")
    assert rule.category == "trip_reminders"
    assert rule.notifies is True


@pytest.mark.parametrize(
    ("trigger_type", "trigger_config", "action_type", "action_config", "category", "notifies"),
    [
        ("budget_exceeded", {"threshold_percent": 90}, "send_whatsapp", {"template": "budget_alert", "parameters": ["{trip.title}", "{budget.percent}"]}, "budget_alerts", True),
        ("booking_pending", {"hours": 48}, "send_email", {"subject": "{booking.type} pending", "body": "{trip.title}"}, "booking_confirmations", True),
        ("schedule", {"cron": "0 9 * * 1"}, "send_whatsapp", {"template": "weekly_digest", "category": "marketing"}, "marketing", True),
        ("trip_end", '{"days_after": 1}', "update_trip", '{"fields": {"status": "completed"}}', "trip_reminders", False),
        ("trip_start", {"days_before": 7}, "run_ai_agent", {"deployment": "plan/nightly"}, "ai_suggestions", True),
    ],
)  # fmt: skip
def test_parse_rule_category_and_notifies(
    trigger_type: str,
    trigger_config: object,
    action_type: str,
    action_config: object,
    category: str,
    notifies: bool,
) -> None:
    rule = parse_rule(
        trigger_type=trigger_type,
        trigger_config=trigger_config,
        action_type=action_type,
        action_config=action_config,
    )
    assert (rule.category, rule.notifies) == (category, notifies)


@pytest.mark.parametrize(
    ("trigger_type", "trigger_config", "action_type", "action_config", "message"),
    [
        ("trip_start", {"days_before": 1}, "send_whatsapp", {"template": "t", "parameters": ["{budget.percent}"]}, "send_whatsapp action_config uses {budget.*} placeholders, which a trip_start rule cannot fill (available: {trip.*})"),
        ("schedule", {"cron": "0 9 * * *"}, "send_email", {"subject": "{trip.title}", "body": "b"}, "send_email action_config uses {trip.*} placeholders, which a schedule rule cannot fill (available: none)"),
        ("budget_exceeded", {"threshold_percent": 90}, "send_whatsapp", {"template": "t", "text": "{booking.type}"}, "send_whatsapp action_config uses {booking.*} placeholders, which a budget_exceeded rule cannot fill (available: {budget.*}, {trip.*})"),
        ("trip_start", {}, "send_whatsapp", {"template": "t"}, "trip_start trigger_config.days_before is required"),
        ("trip_start", {"days_before": 1}, "send_whatsapp", {}, "send_whatsapp action_config.template is required"),
    ],
)  # fmt: skip
def test_parse_rule_errors(
    trigger_type: str, trigger_config: object, action_type: str, action_config: object, message: str
) -> None:
    with pytest.raises(InvalidRuleConfig) as caught:
        parse_rule(
            trigger_type=trigger_type,
            trigger_config=trigger_config,
            action_type=action_type,
            action_config=action_config,
        )
    assert str(caught.value) == message
