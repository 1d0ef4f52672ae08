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

from sqlalchemy.engine import Connection

from tripcast.rules.config_errors import InvalidRuleConfig
from tripcast.rules.rule import Rule, parse_rule

DISTINCT_CONFIGS = """
SELECT trigger_type, trigger_config::text AS trigger_config, action_type,
       action_config::text AS action_config, count(*) AS rules,
       bool_or(last_error IS NOT NULL) AS had_errors
FROM public.automation_rules
WHERE is_active = true AND trigger_type = ANY(%(trigger_types)s)
GROUP BY trigger_type, trigger_config::text, action_type, action_config::text
"""

RULE_MATCHES_CONFIG = """
r.is_active AND r.trigger_type = c.trigger_type
AND r.trigger_config::text = c.trigger_config
AND r.action_type = c.action_type AND r.action_config::text = c.action_config"""
"""Join condition of ``public.automation_rules r`` with a ``config c`` row set."""

CONFIG_ROWS = """
SELECT * FROM unnest(%(trigger_types)s::text[], %(trigger_configs)s::text[],
                     %(action_types)s::text[], %(action_configs)s::text[])
  WITH ORDINALITY AS c(trigger_type, trigger_config, action_type, action_config, number)"""
"""The configurations passed as ``config_columns``; ``number`` is the position, from 1."""

RULES_OF_CONFIGS = f"""
WITH config AS ({CONFIG_ROWS})
SELECT r.id, r.user_id, c.trigger_type, c.trigger_config, c.action_type, c.action_config
FROM config c JOIN public.automation_rules r ON {RULE_MATCHES_CONFIG}
"""

RECORD_ERRORS = """
UPDATE public.automation_rules AS r
SET last_error = e.reason, last_error_at = %(now)s
FROM unnest(%(ids)s::uuid[], %(reasons)s::text[]) AS e(id, reason)
WHERE r.id = e.id AND r.last_error IS DISTINCT FROM e.reason
"""

CLEAR_ERRORS = f"""
WITH config AS ({CONFIG_ROWS})
UPDATE public.automation_rules AS r SET last_error = NULL, last_error_at = NULL
FROM config c
WHERE r.last_error IS NOT NULL AND {RULE_MATCHES_CONFIG}
"""


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
    """``configs`` as the arrays ``CONFIG_ROWS`` unnests."""
    return {
        "trigger_types": [c.trigger_type for c in configs],
        "trigger_configs": [c.trigger_config for c in configs],
        "action_types": [c.action_type for c in configs],
        "action_configs": [c.action_config for c in configs],
    }


def load_rule_configs(connection: Connection, *, trigger_types: Sequence[str]) -> list[RuleConfig]:
    """Every distinct configuration of active rules of ``trigger_types``, validated."""
    rows = connection.exec_driver_sql(DISTINCT_CONFIGS, {"trigger_types": list(trigger_types)})
    return [_validated(row) for row in rows.mappings()]


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
    rows = connection.exec_driver_sql(RULES_OF_CONFIGS, config_columns(broken)).mappings()
    return [
        InvalidRule(row["id"], row["user_id"], str(reasons[tuple(row[f] for f in CONFIG_KEY)]))
        for row in rows
    ]


def record_invalid_rules(
    connection: Connection, invalid: Sequence[InvalidRule], *, now: datetime
) -> None:
    if invalid:
        connection.exec_driver_sql(
            RECORD_ERRORS,
            {"ids": [r.id for r in invalid], "reasons": [r.reason for r in invalid], "now": now},
        )


def clear_recovered_errors(connection: Connection, configs: Sequence[RuleConfig]) -> None:
    """Forget ``last_error`` of rules whose configuration validates again."""
    recovered = [c for c in configs if c.rule is not None and c.had_errors]
    if recovered:
        connection.exec_driver_sql(CLEAR_ERRORS, config_columns(recovered))
