"""Planning: active rules × their subjects → due ``scheduled_jobs``, in set-based SQL.

Each trigger type is one ``INSERT … SELECT`` over the validated rules (passed in as
arrays, so a malformed ``trigger_config`` can never break the statement) joined with
their trips, bookings or expenses. A unique ``dedupe_key`` per (rule, subject,
occurrence) — the format of ``tripcast.rules.occurrences`` — makes planning idempotent:
re-running it, or two planners racing, inserts nothing twice (``ON CONFLICT DO NOTHING``).

Only occurrences due inside the planning window are planned: not later than
``now + horizon``, and not earlier than ``now - max_lateness`` (a rule created today does
not fire for last month's trips).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from tripcast.automations.rules import ActiveRule
from tripcast.rules.occurrences import tick_key
from tripcast.rules.triggers import (
    BookingPendingTrigger,
    BudgetExceededTrigger,
    ScheduleTrigger,
    TripEndTrigger,
    TripStartTrigger,
)

# A traveller's timezone as planning uses it: their preference when PostgreSQL knows the
# name, else UTC (an unknown name must not break the statement for everyone).
TRAVELLER_ZONE = """
traveller_zone AS (
  SELECT p.user_id, z.name AS zone
  FROM public.notification_preferences p
  JOIN pg_timezone_names z ON z.name = p.timezone
  WHERE p.user_id = ANY(%(user_ids)s::uuid[])
)"""

INSERT_JOBS = """
INSERT INTO public.scheduled_jobs
  (user_id, automation_rule_id, trip_id, job_type, scheduled_for, dedupe_key, payload)
SELECT user_id, rule_id, trip_id, job_type, due_at, dedupe_key, payload FROM occurrence
WHERE due_at > %(not_before)s AND due_at <= %(not_after)s
ON CONFLICT (dedupe_key) DO NOTHING
"""

# Trip edges: the trip's start (or end) date shifted by the rule's days, at the rule's
# local send time in the traveller's zone. `AT TIME ZONE` turns that wall time into an
# instant, DST included.
PLAN_TRIP_EDGE = f"""
WITH rule AS (
  SELECT * FROM unnest(%(rule_ids)s::uuid[], %(user_ids)s::uuid[], %(job_types)s::text[],
                       %(day_offsets)s::int[], %(send_at)s::time[])
    AS r(rule_id, user_id, job_type, day_offset, send_at)
),
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
WITH rule AS (
  SELECT * FROM unnest(%(rule_ids)s::uuid[], %(user_ids)s::uuid[], %(job_types)s::text[],
                       %(hours)s::float8[])
    AS r(rule_id, user_id, job_type, hours)
),
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
WITH rule AS (
  SELECT * FROM unnest(%(rule_ids)s::uuid[], %(user_ids)s::uuid[], %(job_types)s::text[],
                       %(thresholds)s::int[])
    AS r(rule_id, user_id, job_type, threshold)
),
spending AS (
  SELECT e.trip_id, sum(e.amount) AS spent
  FROM public.expenses e
  JOIN public.trips t ON t.id = e.trip_id
  WHERE t.user_id = ANY(%(user_ids)s::uuid[]) AND t.budget_amount > 0
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

PLAN_TICKS = f"""
WITH occurrence AS (
  SELECT * FROM unnest(%(user_ids)s::uuid[], %(rule_ids)s::uuid[], %(trip_ids)s::uuid[],
                       %(job_types)s::text[], %(due_at)s::timestamptz[],
                       %(dedupe_keys)s::text[], %(payloads)s::jsonb[])
    AS o(user_id, rule_id, trip_id, job_type, due_at, dedupe_key, payload)
)
{INSERT_JOBS}"""


@dataclass(frozen=True)
class PlanWindow:
    now: datetime
    horizon: timedelta = timedelta(minutes=15)
    max_lateness: timedelta = timedelta(hours=24)

    def bounds(self) -> dict[str, datetime]:
        return {"not_before": self.now - self.max_lateness, "not_after": self.now + self.horizon}


def _columns(rules: Sequence[ActiveRule]) -> dict[str, list[object]]:
    return {
        "rule_ids": [r.id for r in rules],
        "user_ids": [r.user_id for r in rules],
        "job_types": [r.rule.action_type for r in rules],
    }


def plan_trip_edges(
    connection: Connection, rules: Sequence[ActiveRule], *, edge: str, window: PlanWindow
) -> int:
    """Plan trip_start (``edge='start'``) or trip_end (``edge='end'``) rules; jobs inserted."""
    if not rules:
        return 0
    offsets = [
        -r.rule.trigger.days_before
        if isinstance(r.rule.trigger, TripStartTrigger)
        else r.rule.trigger.days_after
        for r in rules
        if isinstance(r.rule.trigger, TripStartTrigger | TripEndTrigger)
    ]
    send_at = [r.rule.trigger.send_at for r in rules]  # type: ignore[union-attr]
    # Local dates that can hold a due instant in the window, with a day of slack on each
    # side for timezones (UTC-12 … UTC+14).
    first_day = (window.now - window.max_lateness - timedelta(days=1)).date()
    last_day = (window.now + window.horizon + timedelta(days=1)).date()
    sql = PLAN_TRIP_EDGE.format(date_column=f"{edge}_date", edge=edge)
    params = {
        **_columns(rules),
        "day_offsets": offsets,
        "send_at": send_at,
        "trigger": f"trip_{edge}",
        "first_day": first_day,
        "last_day": last_day,
        **window.bounds(),
    }
    return connection.exec_driver_sql(sql, params).rowcount


def plan_booking_pending(
    connection: Connection, rules: Sequence[ActiveRule], *, window: PlanWindow
) -> int:
    if not rules:
        return 0
    hours = [
        r.rule.trigger.hours for r in rules if isinstance(r.rule.trigger, BookingPendingTrigger)
    ]
    params = {**_columns(rules), "hours": hours, **window.bounds()}
    return connection.exec_driver_sql(PLAN_BOOKING_PENDING, params).rowcount


def plan_budget_exceeded(
    connection: Connection, rules: Sequence[ActiveRule], *, window: PlanWindow
) -> int:
    if not rules:
        return 0
    thresholds = [
        r.rule.trigger.threshold_percent
        for r in rules
        if isinstance(r.rule.trigger, BudgetExceededTrigger)
    ]
    params = {**_columns(rules), "thresholds": thresholds, "now": window.now, **window.bounds()}
    return connection.exec_driver_sql(PLAN_BUDGET_EXCEEDED, params).rowcount


# Schedule rules replay at most this much of a missed past (after downtime, say): a
# per-minute cron must not fire a day's worth of ticks at once.
SCHEDULE_MAX_LATENESS = timedelta(hours=1)


def plan_schedule(
    connection: Connection, rules: Sequence[ActiveRule], *, window: PlanWindow
) -> int:
    """Cron ticks are computed in Python (croniter, DST-aware), inserted in one statement."""
    rows: dict[str, list[object]] = {
        key: []
        for key in (
            "user_ids",
            "rule_ids",
            "trip_ids",
            "job_types",
            "due_at",
            "dedupe_keys",
            "payloads",
        )
    }
    lateness = min(window.max_lateness, SCHEDULE_MAX_LATENESS)
    for active in rules:
        trigger = active.rule.trigger
        if not isinstance(trigger, ScheduleTrigger):
            continue
        after = max(window.now - lateness, active.created_at)
        for tick in trigger.ticks(after=after, until=window.now + window.horizon):
            rows["user_ids"].append(active.user_id)
            rows["rule_ids"].append(active.id)
            rows["trip_ids"].append(None)
            rows["job_types"].append(active.rule.action_type)
            rows["due_at"].append(tick)
            rows["dedupe_keys"].append(tick_key(active.id, tick))
            rows["payloads"].append(json.dumps({"trigger": "schedule", "tick": tick.isoformat()}))
    if not rows["rule_ids"]:
        return 0
    bounds = {"not_before": window.now - lateness, "not_after": window.now + window.horizon}
    return connection.exec_driver_sql(PLAN_TICKS, {**rows, **bounds}).rowcount


PLANNERS = {
    "trip_start": lambda c, r, w: plan_trip_edges(c, r, edge="start", window=w),
    "trip_end": lambda c, r, w: plan_trip_edges(c, r, edge="end", window=w),
    "booking_pending": lambda c, r, w: plan_booking_pending(c, r, window=w),
    "budget_exceeded": lambda c, r, w: plan_budget_exceeded(c, r, window=w),
    "schedule": lambda c, r, w: plan_schedule(c, r, window=w),
}


def plan(
    connection: Connection, rules: Sequence[ActiveRule], *, trigger_type: str, window: PlanWindow
) -> int:
    """Plan every rule of ``trigger_type``; the number of jobs inserted."""
    own = [r for r in rules if r.rule.trigger_type == trigger_type]
    return int(PLANNERS[trigger_type](connection, own, window))
