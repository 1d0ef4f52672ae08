"""Planning: active rules × their subjects → due ``scheduled_jobs``, in set-based SQL.

Each trigger type is one ``INSERT … SELECT`` over the validated configurations (passed
in as arrays and joined back to the rules holding them, so a malformed
``trigger_config`` can never break the statement) joined with their trips, bookings or
expenses. A unique ``dedupe_key`` per (rule, subject,
occurrence) — the format of ``tripcast.rules.occurrences`` — makes planning idempotent:
re-running it, or two planners racing, inserts nothing twice (``ON CONFLICT DO NOTHING``).

Only occurrences due inside the planning window are planned: not later than
``now + horizon``, and not earlier than ``now - max_lateness`` (a rule created today does
not fire for last month's trips).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Connection

from tripcast.automations import sql
from tripcast.automations.active_rules import RuleConfig, config_columns
from tripcast.rules.triggers import (
    BookingPendingTrigger,
    BudgetExceededTrigger,
    ScheduleTrigger,
    TripEndTrigger,
    TripStartTrigger,
)

T = TypeVar("T")


@dataclass(frozen=True)
class PlanWindow:
    now: datetime
    horizon: timedelta = timedelta(minutes=15)
    max_lateness: timedelta = timedelta(hours=24)

    def bounds(self) -> dict[str, datetime]:
        return {"not_before": self.now - self.max_lateness, "not_after": self.now + self.horizon}


Numbered = Sequence[tuple[int, RuleConfig]]
"""Configurations of one trigger type, each with its number among the staged ones."""


def stage_rules(connection: Connection, configs: Sequence[RuleConfig]) -> int:
    """Stage the active rules holding one of the valid ``configs`` (numbered by position)
    for this transaction's planning statements; how many there are."""
    connection.exec_driver_sql(sql.STAGE_RULES_TABLE)
    staged = connection.exec_driver_sql(sql.STAGE_RULES, config_columns(configs)).rowcount
    connection.exec_driver_sql(sql.ANALYZE_STAGED_RULES)
    return int(staged)


def _triggers(configs: Numbered, kind: type[T]) -> list[T]:
    triggers = [c.rule.trigger if c.rule else None for _, c in configs]
    assert all(isinstance(t, kind) for t in triggers), "only valid configurations are planned"
    return cast(list[T], triggers)


def plan_trip_edges(
    connection: Connection, configs: Numbered, *, edge: str, window: PlanWindow
) -> int:
    """Plan trip_start (``edge='start'``) or trip_end (``edge='end'``) rules; jobs inserted."""
    kind: type[TripStartTrigger | TripEndTrigger] = (
        TripStartTrigger if edge == "start" else TripEndTrigger
    )
    triggers = _triggers(configs, kind)
    offsets = [
        -t.days_before if isinstance(t, TripStartTrigger) else t.days_after for t in triggers
    ]
    # Local dates that can hold a due instant in the window, with a day of slack on each
    # side for timezones (UTC-12 … UTC+14).
    first_day = (window.now - window.max_lateness - timedelta(days=1)).date()
    last_day = (window.now + window.horizon + timedelta(days=1)).date()
    params = {
        "configs": [number for number, _ in configs],
        "day_offsets": offsets,
        "send_at": [t.send_at for t in triggers],
        "trigger": f"trip_{edge}",
        "first_day": first_day,
        "last_day": last_day,
        **window.bounds(),
    }
    statement = sql.PLAN_TRIP_EDGE.format(date_column=f"{edge}_date", edge=edge)
    return connection.exec_driver_sql(statement, params).rowcount


def plan_booking_pending(connection: Connection, configs: Numbered, *, window: PlanWindow) -> int:
    params = {
        "configs": [number for number, _ in configs],
        "hours": [t.hours for t in _triggers(configs, BookingPendingTrigger)],
        **window.bounds(),
    }
    return connection.exec_driver_sql(sql.PLAN_BOOKING_PENDING, params).rowcount


def plan_budget_exceeded(connection: Connection, configs: Numbered, *, window: PlanWindow) -> int:
    params = {
        "configs": [number for number, _ in configs],
        "thresholds": [t.threshold_percent for t in _triggers(configs, BudgetExceededTrigger)],
        "now": window.now,
        **window.bounds(),
    }
    return connection.exec_driver_sql(sql.PLAN_BUDGET_EXCEEDED, params).rowcount


# Schedule rules replay at most this much of a missed past (after downtime, say): a
# per-minute cron must not fire a day's worth of ticks at once.
SCHEDULE_MAX_LATENESS = timedelta(hours=1)


def plan_schedule(connection: Connection, configs: Numbered, *, window: PlanWindow) -> int:
    """Cron ticks (croniter, DST-aware) per configuration, joined with its rules in SQL."""
    lateness = min(window.max_lateness, SCHEDULE_MAX_LATENESS)
    bounds = {"not_before": window.now - lateness, "not_after": window.now + window.horizon}
    ticks: dict[str, list[Any]] = {"tick_configs": [], "ticks": [], "tick_texts": []}
    triggers = _triggers(configs, ScheduleTrigger)
    for (number, _), trigger in zip(configs, triggers, strict=True):
        for tick in trigger.ticks(after=bounds["not_before"], until=bounds["not_after"]):
            ticks["tick_configs"].append(number)
            ticks["ticks"].append(tick)
            ticks["tick_texts"].append(tick.isoformat())
    if not ticks["ticks"]:
        return 0
    return connection.exec_driver_sql(sql.PLAN_TICKS, {**ticks, **bounds}).rowcount


PLANNERS: dict[str, Callable[[Connection, Numbered, PlanWindow], int]] = {
    "trip_start": lambda c, r, w: plan_trip_edges(c, r, edge="start", window=w),
    "trip_end": lambda c, r, w: plan_trip_edges(c, r, edge="end", window=w),
    "booking_pending": lambda c, r, w: plan_booking_pending(c, r, window=w),
    "budget_exceeded": lambda c, r, w: plan_budget_exceeded(c, r, window=w),
    "schedule": lambda c, r, w: plan_schedule(c, r, window=w),
}


def plan(
    connection: Connection,
    staged: Sequence[RuleConfig],
    *,
    trigger_type: str,
    window: PlanWindow,
) -> int:
    """Plan the staged rules (``stage_rules(connection, staged)``) of ``trigger_type``;
    the number of jobs inserted."""
    own = [(n, c) for n, c in enumerate(staged) if c.trigger_type == trigger_type]
    return PLANNERS[trigger_type](connection, own, window) if own else 0
