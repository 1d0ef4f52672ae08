"""A whole automation rule, validated at once: trigger, action, and what they imply.

``parse_rule`` parses both configs and checks that the action's placeholders can be
filled by the trigger's subject (a trip_start rule has a trip, not a budget), then fixes
the rule's notification category.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import cast

from tripcast.rules.actions import (
    ActionConfig,
    ActionType,
    SendEmailAction,
    SendWhatsAppAction,
    parse_action_config,
)
from tripcast.rules.categories import Category, default_category
from tripcast.rules.config_errors import InvalidRuleConfig
from tripcast.rules.placeholders import namespaces
from tripcast.rules.triggers import TriggerConfig, TriggerType, parse_trigger_config

TRIGGER_NAMESPACES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "trip_start": frozenset({"trip"}),
        "trip_end": frozenset({"trip"}),
        "booking_pending": frozenset({"booking", "trip"}),
        "budget_exceeded": frozenset({"budget", "trip"}),
        "schedule": frozenset(),
    }
)
"""Placeholder namespaces each trigger's subject provides when its rule fires."""

NOTIFYING_ACTIONS: frozenset[str] = frozenset({"send_whatsapp", "send_email", "run_ai_agent"})


@dataclass(frozen=True)
class Rule:
    """A validated rule. ``category`` is the action's own or the default for the pair."""

    trigger_type: TriggerType
    trigger: TriggerConfig
    action_type: ActionType
    action: ActionConfig
    category: Category

    @property
    def notifies(self) -> bool:
        """Whether preferences (category gate, quiet hours) apply: every action but
        ``update_trip``, which changes data and reaches nobody."""
        return self.action_type in NOTIFYING_ACTIONS


def action_texts(action: ActionConfig) -> list[str]:
    """The texts of an action that may hold placeholders."""
    if isinstance(action, SendWhatsAppAction):
        return [*action.parameters, *([action.text] if action.text is not None else [])]
    if isinstance(action, SendEmailAction):
        return [action.subject, action.body]
    return []


def parse_rule(
    *, trigger_type: str, trigger_config: object, action_type: str, action_config: object
) -> Rule:
    """Validate a rule row's four columns; raises ``InvalidRuleConfig`` (one line)."""
    trigger = parse_trigger_config(trigger_type, trigger_config)
    action = parse_action_config(action_type, action_config)
    available = TRIGGER_NAMESPACES[trigger_type]
    missing = sorted(namespaces(action_texts(action)) - available)
    if missing:
        offer = ", ".join(f"{{{ns}.*}}" for ns in sorted(available)) or "none"
        raise InvalidRuleConfig(
            f"{action_type} action_config uses {{{missing[0]}.*}} placeholders, which a "
            f"{trigger_type} rule cannot fill (available: {offer})"
        )
    configured = action.category if isinstance(action, SendWhatsAppAction) else None
    return Rule(
        trigger_type=cast(TriggerType, trigger_type),
        trigger=trigger,
        action_type=cast(ActionType, action_type),
        action=action,
        category=default_category(trigger_type, action_type, configured=configured),
    )
