"""Notification categories (the ``notification_preferences`` toggles) and preference gating.

A missing preferences row, a missing key or a NULL toggle means the seed's column default
(``SEED_DEFAULTS``): every category on except ``marketing``, quiet hours off, timezone UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, cast

from tripcast.rules._parsing import shown
from tripcast.rules.config_errors import InvalidRuleConfig

Category = Literal[
    "trip_reminders",
    "booking_confirmations",
    "itinerary_updates",
    "budget_alerts",
    "ai_suggestions",
    "collaborator_updates",
    "marketing",
]
CATEGORIES: tuple[Category, ...] = (
    "trip_reminders",
    "booking_confirmations",
    "itinerary_updates",
    "budget_alerts",
    "ai_suggestions",
    "collaborator_updates",
    "marketing",
)

SkipReason = str
"""``category_disabled:<category>`` or ``marketing_not_allowed``."""

SEED_DEFAULTS: Mapping[str, object] = MappingProxyType(
    {
        "trip_reminders": True,
        "booking_confirmations": True,
        "itinerary_updates": True,
        "budget_alerts": True,
        "ai_suggestions": True,
        "collaborator_updates": True,
        "marketing": False,
        "quiet_hours_enabled": False,
        "quiet_hours_start": None,
        "quiet_hours_end": None,
        "timezone": "UTC",
    }
)

_BY_TRIGGER: Mapping[str, Category] = MappingProxyType(
    {
        "trip_start": "trip_reminders",
        "trip_end": "trip_reminders",
        "booking_pending": "booking_confirmations",
        "budget_exceeded": "budget_alerts",
        "schedule": "itinerary_updates",
    }
)
_ACTIONS = ("send_whatsapp", "send_email", "run_ai_agent", "update_trip")


def check_category(value: object) -> Category:
    """Return ``value`` as a ``Category`` or raise ``InvalidRuleConfig``."""
    if not isinstance(value, str) or value not in CATEGORIES:
        raise InvalidRuleConfig(
            f"unknown notification category {shown(value)} (expected one of: "
            f"{', '.join(CATEGORIES)})"
        )
    return cast(Category, value)


def default_category(
    trigger_type: str, action_type: str, *, configured: str | None = None
) -> Category:
    """The category a rule's notifications belong to.

    ``configured`` (the action config's ``category``) wins when given; otherwise
    ``run_ai_agent`` → ai_suggestions, and by trigger: trip_start/trip_end →
    trip_reminders, booking_pending → booking_confirmations, budget_exceeded →
    budget_alerts, schedule → itinerary_updates.
    """
    if trigger_type not in _BY_TRIGGER:
        raise InvalidRuleConfig(f"unknown trigger_type {shown(trigger_type)}")
    if action_type not in _ACTIONS:
        raise InvalidRuleConfig(f"unknown action_type {shown(action_type)}")
    if configured is not None:
        return check_category(configured)
    if action_type == "run_ai_agent":
        return "ai_suggestions"
    return _BY_TRIGGER[trigger_type]


def preference(preferences: Mapping[str, object] | None, key: str) -> object:
    """One preference value, falling back to ``SEED_DEFAULTS`` for a missing row/key/NULL."""
    if key not in SEED_DEFAULTS:
        raise KeyError(key)
    value = None if preferences is None else preferences.get(key)
    return SEED_DEFAULTS[key] if value is None else value


def gate(preferences: Mapping[str, object] | None, category: str) -> SkipReason | None:
    """Why a notification of ``category`` must be skipped for these preferences, or ``None``.

    ``marketing`` needs an explicit ``marketing = true`` (→ ``marketing_not_allowed``);
    any other category switched off → ``category_disabled:<category>``.
    """
    checked = check_category(category)
    if preference(preferences, checked) is True:
        return None
    if checked == "marketing":
        return "marketing_not_allowed"
    return f"category_disabled:{checked}"
