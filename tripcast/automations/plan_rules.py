"""Planning all rules of some trigger types in one transaction, with a report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from tripcast.automations.active_rules import (
    InvalidRule,
    clear_recovered_errors,
    invalid_rules,
    load_rule_configs,
    record_invalid_rules,
)
from tripcast.automations.planning import PlanWindow, plan, stage_rules
from tripcast.rules.triggers import TRIGGER_TYPES


@dataclass
class PlanReport:
    planned: dict[str, int] = field(default_factory=dict)
    rules: int = 0
    configs: int = 0
    invalid: list[InvalidRule] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.planned.values())


def plan_rules(
    engine: Engine,
    *,
    now: datetime,
    trigger_types: Sequence[str] = TRIGGER_TYPES,
    horizon: timedelta = timedelta(minutes=15),
    max_lateness: timedelta = timedelta(hours=24),
) -> PlanReport:
    """Plan every active rule of ``trigger_types`` for occurrences due in the window."""
    window = PlanWindow(now=now, horizon=horizon, max_lateness=max_lateness)
    report = PlanReport()
    with engine.begin() as connection:
        configs = load_rule_configs(connection, trigger_types=trigger_types)
        report.invalid = invalid_rules(connection, configs)
        record_invalid_rules(connection, report.invalid, now=now)
        clear_recovered_errors(connection, configs)
        valid = [c for c in configs if c.rule is not None]
        report.configs = len(configs)
        report.rules = stage_rules(connection, valid)
        for trigger_type in trigger_types:
            report.planned[trigger_type] = plan(
                connection, valid, trigger_type=trigger_type, window=window
            )
    return report
