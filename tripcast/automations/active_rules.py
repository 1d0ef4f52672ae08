"""Active automation rules, validated once per distinct configuration.

Travellers pick their rules from a handful of choices, so 100,000 rules share a few
hundred distinct ``(trigger_type, trigger_config, action_type, action_config)``
combinations at most. Planning reads those combinations (with how many rules hold each),
validates each once in Python, and lets SQL join the rules back to the validated ones by
the configs' text (``jsonb::text`` is canonical). A rule edited after its configuration
was read matches none of them and waits for the next run, so no rule is ever planned
with a configuration that was not validated.

A rule whose stored configuration no longer validates fails alone: its reason goes to
``automation_rules.last_error`` and planning goes on with the others.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, cast, func, select, true
from sqlalchemy.engine import Connection
from sqlmodel import col

from tripcast.automations import sql
from tripcast.models.automation import AutomationRule
from tripcast.rules.config_errors import InvalidRuleConfig
from tripcast.rules.rule import Rule, parse_rule

CONFIG_KEY = ("trigger_type", "trigger_config", "action_type", "action_config")


@dataclass(frozen=True)
class RuleConfig:
    """One distinct configuration of active rules, as stored (text) and as validated."""

    trigger_type: str
    trigger_config: str
    action_type: str
    action_config: str
    rules: int
    had_errors: bool
    rule: Rule | None = None
    reason: str | None = None


@dataclass(frozen=True)
class InvalidRule:
    id: uuid.UUID
    user_id: uuid.UUID
    reason: str


def config_columns(configs: Sequence[RuleConfig]) -> dict[str, list[Any]]:
    """``configs`` as the arrays ``sql.CONFIG_ROWS`` unnests."""
    return {
        "trigger_types": [c.trigger_type for c in configs],
        "trigger_configs": [c.trigger_config for c in configs],
        "action_types": [c.action_type for c in configs],
        "action_configs": [c.action_config for c in configs],
    }


def distinct_configs(trigger_types: Sequence[str]) -> Select[Any]:
    """The distinct configurations of active rules of ``trigger_types``, with how many
    rules hold each; configurations as text (``jsonb::text`` is canonical)."""
    rule = AutomationRule
    trigger_config = cast(col(rule.trigger_config), Text)
    action_config = cast(col(rule.action_config), Text)
    return (
        select(
            col(rule.trigger_type),
            trigger_config.label("trigger_config"),
            col(rule.action_type),
            action_config.label("action_config"),
            func.count().label("rules"),
            func.bool_or(col(rule.last_error).is_not(None)).label("had_errors"),
        )
        # `= true`, as the partial index idx_automation_rules_active is defined
        .where(col(rule.is_active) == true(), col(rule.trigger_type).in_(list(trigger_types)))
        .group_by(col(rule.trigger_type), trigger_config, col(rule.action_type), action_config)
    )


def load_rule_configs(connection: Connection, *, trigger_types: Sequence[str]) -> list[RuleConfig]:
    """Every distinct configuration of active rules of ``trigger_types``, validated."""
    rows = connection.execute(distinct_configs(trigger_types)).mappings()
    return [_validated(row) for row in rows]


def _validated(row: Any) -> RuleConfig:
    stored = RuleConfig(**row)
    try:
        rule = parse_rule(
            trigger_type=stored.trigger_type,
            trigger_config=json.loads(stored.trigger_config),
            action_type=stored.action_type,
            action_config=json.loads(stored.action_config),
        )
    except InvalidRuleConfig as error:
        return replace(stored, reason=str(error))
    return replace(stored, rule=rule)


def invalid_rules(connection: Connection, configs: Sequence[RuleConfig]) -> list[InvalidRule]:
    """The rules holding an invalid configuration, each with its reason."""
    broken = [c for c in configs if c.reason is not None]
    if not broken:
        return []
    reasons = {tuple(getattr(c, field) for field in CONFIG_KEY): c.reason for c in broken}
    rows = connection.exec_driver_sql(sql.RULES_OF_CONFIGS, config_columns(broken)).mappings()
    return [
        InvalidRule(row["id"], row["user_id"], str(reasons[tuple(row[f] for f in CONFIG_KEY)]))
        for row in rows
    ]


def record_invalid_rules(
    connection: Connection, invalid: Sequence[InvalidRule], *, now: datetime
) -> None:
    if invalid:
        connection.exec_driver_sql(
            sql.RECORD_RULE_ERRORS,
            {"ids": [r.id for r in invalid], "reasons": [r.reason for r in invalid], "now": now},
        )


def clear_recovered_errors(connection: Connection, configs: Sequence[RuleConfig]) -> None:
    """Forget ``last_error`` of rules whose configuration validates again."""
    recovered = [c for c in configs if c.rule is not None and c.had_errors]
    if recovered:
        connection.exec_driver_sql(sql.CLEAR_RULE_ERRORS, config_columns(recovered))
