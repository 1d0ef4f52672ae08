"""Planning all rules of some trigger types in one transaction, with a report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from tripcast.automations.planning import PlanWindow, plan
from tripcast.automations.rules import InvalidRule, load_active_rules, record_invalid_rules
from tripcast.rules.triggers import TRIGGER_TYPES


@dataclass
class PlanReport:
    planned: dict[str, int] = field(default_factory=dict)
    rules: int = 0
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
        rules, report.invalid = load_active_rules(connection, trigger_types=trigger_types)
        record_invalid_rules(connection, report.invalid, now=now)
        report.rules = len(rules)
        for trigger_type in trigger_types:
            report.planned[trigger_type] = plan(
                connection, rules, trigger_type=trigger_type, window=window
            )
    return report
