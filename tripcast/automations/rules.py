"""Loading active automation rules and sorting the valid from the malformed.

A rule whose stored ``trigger_config`` / ``action_config`` no longer validates fails
alone: its reason goes to ``automation_rules.last_error`` and planning goes on with the
others.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from tripcast.rules.errors import InvalidRuleConfig
from tripcast.rules.rule import Rule, parse_rule

ACTIVE_RULES = """
SELECT id, user_id, trigger_type, trigger_config, action_type, action_config, last_error,
       created_at
FROM public.automation_rules
WHERE is_active = true AND trigger_type = ANY(%(trigger_types)s)
"""

RECORD_ERRORS = """
UPDATE public.automation_rules AS r
SET last_error = e.reason, last_error_at = %(now)s
FROM unnest(%(ids)s::uuid[], %(reasons)s::text[]) AS e(id, reason)
WHERE r.id = e.id AND r.last_error IS DISTINCT FROM e.reason
"""

CLEAR_ERRORS = """
UPDATE public.automation_rules SET last_error = NULL, last_error_at = NULL
WHERE id = ANY(%(ids)s::uuid[])
"""


@dataclass(frozen=True)
class ActiveRule:
    id: uuid.UUID
    user_id: uuid.UUID
    rule: Rule
    created_at: datetime


@dataclass(frozen=True)
class InvalidRule:
    id: uuid.UUID
    user_id: uuid.UUID
    reason: str


def load_active_rules(
    connection: Connection, *, trigger_types: Sequence[str]
) -> tuple[list[ActiveRule], list[InvalidRule]]:
    """Every active rule of ``trigger_types``, parsed; malformed ones come back separately."""
    valid: list[ActiveRule] = []
    invalid: list[InvalidRule] = []
    recovered: list[uuid.UUID] = []
    rows = connection.exec_driver_sql(ACTIVE_RULES, {"trigger_types": list(trigger_types)})
    for row in rows.mappings():
        try:
            rule = parse_rule(
                trigger_type=row["trigger_type"],
                trigger_config=row["trigger_config"],
                action_type=row["action_type"],
                action_config=row["action_config"],
            )
        except InvalidRuleConfig as error:
            invalid.append(InvalidRule(id=row["id"], user_id=row["user_id"], reason=str(error)))
            continue
        valid.append(ActiveRule(row["id"], row["user_id"], rule, row["created_at"]))
        if row["last_error"] is not None:
            recovered.append(row["id"])
    if recovered:
        connection.exec_driver_sql(CLEAR_ERRORS, {"ids": recovered})
    return valid, invalid


def record_invalid_rules(
    connection: Connection, invalid: Sequence[InvalidRule], *, now: datetime
) -> None:
    if invalid:
        connection.exec_driver_sql(
            RECORD_ERRORS,
            {"ids": [r.id for r in invalid], "reasons": [r.reason for r in invalid], "now": now},
        )
