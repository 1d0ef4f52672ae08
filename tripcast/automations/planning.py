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

from tripcast.automations.active_rules import (
    CONFIG_ROWS,
    RULE_MATCHES_CONFIG,
    RuleConfig,
    config_columns,
)
from tripcast.rules.triggers import (
    BookingPendingTrigger,
    BudgetExceededTrigger,
    ScheduleTrigger,
    TripEndTrigger,
    TripStartTrigger,
)

T = TypeVar("T")

# The active rules holding a validated configuration, matched by the configuration's
# text and staged once per run for every trigger's statement. A temporary table, analysed,
# because the planner cannot estimate a join on jsonb text with the configs' arrays and
# then picks nested loops over 100,000 rules.
STAGE_RULES_TABLE = """
CREATE TEMPORARY TABLE planning_rule (
  rule_id uuid PRIMARY KEY, user_id uuid NOT NULL, created_at timestamptz NOT NULL,
  config int NOT NULL, job_type text NOT NULL
) ON COMMIT DROP
"""

STAGE_RULES = f"""
WITH config AS ({CONFIG_ROWS})
INSERT INTO planning_rule (rule_id, user_id, created_at, config, job_type)
SELECT r.id, r.user_id, r.created_at, c.number - 1, c.action_type
FROM config c JOIN public.automation_rules r ON {RULE_MATCHES_CONFIG}
"""

# A traveller's timezone as planning uses it: their preference when PostgreSQL knows the
# name, else UTC (an unknown name must not break the statement for everyone).
TRAVELLER_ZONE = """
traveller_zone AS (
  SELECT p.user_id, z.name AS zone
  FROM public.notification_preferences p
  JOIN pg_timezone_names z ON z.name = p.timezone
)"""

INSERT_JOBS = """
INSERT INTO public.scheduled_jobs
  (user_id, automation_rule_id, trip_id, job_type, scheduled_for, dedupe_key, payload)
SELECT user_id, rule_id, trip_id, job_type, due_at, dedupe_key, payload FROM occurrence
WHERE due_at > %(not_before)s AND due_at <= %(not_after)s
ON CONFLICT (dedupe_key) DO NOTHING
"""

# Each statement starts from the staged rules of its own configurations, each carrying
# the trigger's parameters.
RULE = """
SELECT r.*, {names}
FROM planning_rule r
JOIN unnest(%(configs)s::int[], {parameters}) AS c(config, {names}) USING (config)"""
TRIP_EDGE_RULE = RULE.format(
    parameters="%(day_offsets)s::int[], %(send_at)s::time[]", names="day_offset, send_at"
)
BOOKING_RULE = RULE.format(parameters="%(hours)s::float8[]", names="hours")
BUDGET_RULE = RULE.format(parameters="%(thresholds)s::int[]", names="threshold")

# Trip edges: the trip's start (or end) date shifted by the rule's days, at the rule's
# local send time in the traveller's zone. `AT TIME ZONE` turns that wall time into an
# instant, DST included.
PLAN_TRIP_EDGE = f"""
WITH rule AS ({TRIP_EDGE_RULE}),
{TRAVELLER_ZONE},
occurrence AS (
  SELECT r.user_id, r.rule_id, t.id AS trip_id, r.job_type,
         ((t.{{date_column}} + r.day_offset) + r.send_at) AT TIME ZONE coalesce(z.zone, 'UTC')
           AS due_at,
         r.rule_id::text || ':trip:' || t.id::text || ':{{edge}}:'
           || to_char(t.{{date_column}}, 'YYYY-MM-DD') AS dedupe_key,
         jsonb_build_object('trigger', %(trigger)s::text, 'day', t.{{date_column}}) AS payload
  FROM rule r
  JOIN public.trips t ON t.user_id = r.user_id
  LEFT JOIN traveller_zone z ON z.user_id = r.user_id
  WHERE t.{{date_column}} BETWEEN %(first_day)s::date - r.day_offset
                            AND %(last_day)s::date - r.day_offset
)
{INSERT_JOBS}"""

PLAN_BOOKING_PENDING = f"""
WITH rule AS ({BOOKING_RULE}),
occurrence AS (
  SELECT r.user_id, r.rule_id, b.trip_id, r.job_type,
         b.created_at + make_interval(secs => r.hours * 3600) AS due_at,
         r.rule_id::text || ':booking:' || b.id::text AS dedupe_key,
         jsonb_build_object('trigger', 'booking_pending', 'booking_id', b.id) AS payload
  FROM rule r
  JOIN public.bookings b ON b.user_id = r.user_id AND b.status = 'pending'
)
{INSERT_JOBS}"""

# Budget alerts are due as soon as spending reaches the threshold; one per trip and
# threshold, however often spending crosses it.
PLAN_BUDGET_EXCEEDED = f"""
WITH rule AS ({BUDGET_RULE}),
spending AS (
  SELECT e.trip_id, sum(e.amount) AS spent
  FROM public.expenses e
  JOIN public.trips t ON t.id = e.trip_id
  WHERE t.user_id IN (SELECT user_id FROM rule) AND t.budget_amount > 0
  GROUP BY e.trip_id
),
occurrence AS (
  SELECT r.user_id, r.rule_id, t.id AS trip_id, r.job_type,
         %(now)s::timestamptz AS due_at,
         r.rule_id::text || ':budget:' || t.id::text || ':' || r.threshold AS dedupe_key,
         jsonb_build_object('trigger', 'budget_exceeded', 'threshold', r.threshold,
                            'spent', s.spent, 'budget', t.budget_amount) AS payload
  FROM rule r
  JOIN public.trips t ON t.user_id = r.user_id AND t.budget_amount > 0
  JOIN spending s ON s.trip_id = t.id
  WHERE s.spent * 100 >= t.budget_amount * r.threshold
)
{INSERT_JOBS}"""

# Cron ticks are computed once per configuration in Python; a rule takes the ticks of its
# configuration that come after it was created. The key is ``occurrences.tick_key``.
PLAN_TICKS = f"""
WITH tick AS (
  SELECT * FROM unnest(%(tick_configs)s::int[], %(ticks)s::timestamptz[], %(tick_texts)s::text[])
    AS t(config, at, text)
),
occurrence AS (
  SELECT r.user_id, r.rule_id, NULL::uuid AS trip_id, r.job_type,
         t.at AS due_at,
         r.rule_id::text || ':tick:'
           || to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS dedupe_key,
         jsonb_build_object('trigger', 'schedule', 'tick', t.text) AS payload
  FROM planning_rule r JOIN tick t USING (config)
  WHERE t.at > r.created_at
)
{INSERT_JOBS}"""


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
    connection.exec_driver_sql(STAGE_RULES_TABLE)
    staged = connection.exec_driver_sql(STAGE_RULES, config_columns(configs)).rowcount
    connection.exec_driver_sql("ANALYZE planning_rule")
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
    sql = PLAN_TRIP_EDGE.format(date_column=f"{edge}_date", edge=edge)
    return connection.exec_driver_sql(sql, params).rowcount


def plan_booking_pending(connection: Connection, configs: Numbered, *, window: PlanWindow) -> int:
    params = {
        "configs": [number for number, _ in configs],
        "hours": [t.hours for t in _triggers(configs, BookingPendingTrigger)],
        **window.bounds(),
    }
    return connection.exec_driver_sql(PLAN_BOOKING_PENDING, params).rowcount


def plan_budget_exceeded(connection: Connection, configs: Numbered, *, window: PlanWindow) -> int:
    params = {
        "configs": [number for number, _ in configs],
        "thresholds": [t.threshold_percent for t in _triggers(configs, BudgetExceededTrigger)],
        "now": window.now,
        **window.bounds(),
    }
    return connection.exec_driver_sql(PLAN_BUDGET_EXCEEDED, params).rowcount


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
    return connection.exec_driver_sql(PLAN_TICKS, {**ticks, **bounds}).rowcount


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
