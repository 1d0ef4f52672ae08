"""Planning: trips × rules evaluated into scheduled jobs, and the idempotent re-run.

The world is bulk-loaded in SQL (``planning_sql``): travellers in eight timezones, five
trips each, one pending booking and one expense per trip, and five rules per traveller
(trip_start 1 and 7 days before, trip_end 1 day after, booking_pending after 48 h,
budget_exceeded at 90 %), all ``send_whatsapp``. Two scenarios, each on a fresh database:

- a day like any other: dates, bookings and spending spread out, planned with the
  24-hour horizon of the ``trip-reminders`` flow; every pair is evaluated, a few percent
  are due;
- every pair due: all dates within a 400-day horizon, every booking and budget due, one
  job per (trip, rule) pair, the worst case.

Each scenario's ceiling is the same number of rows written by one bare ``INSERT …
SELECT`` of rules joined with trips (no rule parsing, no timezones, no windows), rolled
back; for the re-run, every planned job re-inserted by one bare ``INSERT … ON CONFLICT DO
NOTHING``, rolled back. Statements are timed one by one while planning runs, so the
figures say where its time goes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from tripcast.automations.plan_rules import plan_rules
from tripcast.bench.database import ScratchServer
from tripcast.bench.planning_sql import BARE_INSERT, BARE_REINSERT, WORLD
from tripcast.bench.results import BenchResult, Figure

TRIPS_PER_TRAVELLER = 5
RULES_PER_TRAVELLER = 5
SIZES = {"small": 1_000, "full": 100_000}  # trips
PLAN_SECONDS = 5.0
RERUN_SECONDS = 2.0


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    spread: bool
    horizon: timedelta


SCENARIOS = (
    Scenario("day", "a day, 24 h horizon", spread=True, horizon=timedelta(hours=24)),
    Scenario("all_due", "every pair due", spread=False, horizon=timedelta(days=400)),
)


def seed_world(engine: Engine, trips: int, *, spread: bool) -> None:
    travellers = max(1, trips // TRIPS_PER_TRAVELLER)
    params = {"n": travellers, "trips_each": TRIPS_PER_TRAVELLER, "spread": spread}
    with engine.begin() as connection:
        for statement in WORLD:
            connection.exec_driver_sql(statement, params)
    _maintain(engine)


def _maintain(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")


def bare_statement(engine: Engine, sql: str, **params: Any) -> tuple[float, int]:
    """Seconds and rows of ``sql``, rolled back (then vacuumed away)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        started = time.perf_counter()
        rows = connection.exec_driver_sql(sql, params).rowcount
        seconds = time.perf_counter() - started
        transaction.rollback()
    _maintain(engine)
    return seconds, rows


@contextmanager
def statement_timings(engine: Engine) -> Iterator[list[tuple[str, float]]]:
    """Every statement ``engine`` runs inside the block: (what it plans, seconds)."""
    timings: list[tuple[str, float]] = []

    def before(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        elapsed = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        timings.append((_label(statement, params), elapsed))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield timings
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def _label(statement: str, params: Any) -> str:
    if statement.lstrip().startswith("SELECT") and "automation_rules" in statement:
        return "load configurations"
    if "planning_rule" in statement and "INSERT INTO public.scheduled_jobs" not in statement:
        return "stage rules"
    keys = params if isinstance(params, dict) else {}
    if "trigger" in keys:
        return str(keys["trigger"])
    for key, label in (("hours", "booking_pending"), ("thresholds", "budget_exceeded")):
        if key in keys:
            return label
    return "schedule" if "dedupe_keys" in keys else "other statements"


def timed_plan(engine: Engine, *, now: datetime, horizon: timedelta) -> dict[str, Any]:
    with statement_timings(engine) as timings:
        started = time.perf_counter()
        report = plan_rules(engine, now=now, horizon=horizon, max_lateness=timedelta(hours=24))
        seconds = time.perf_counter() - started
    spent: dict[str, float] = {}
    for label, elapsed in timings:
        spent[label] = spent.get(label, 0.0) + elapsed
    spent["validation, Python, commit"] = seconds - sum(spent.values())
    return {
        "seconds": round(seconds, 3),
        "planned": report.total,
        "by_trigger": report.planned,
        "statements": {label: round(elapsed, 3) for label, elapsed in spent.items()},
    }


def run_scenario(server: ScratchServer, scenario: Scenario, *, trips: int) -> dict[str, Any]:
    with server.fresh() as engine:
        started = time.perf_counter()
        seed_world(engine, trips, spread=scenario.spread)
        seeded = time.perf_counter() - started
        # Every pair due: the ceiling goes first, into an empty table, as planning does.
        expected = None if scenario.spread else trips * RULES_PER_TRAVELLER
        ceiling = bare_statement(engine, BARE_INSERT, rows=expected) if expected else None
        now = datetime.now(UTC)
        plan = timed_plan(engine, now=now, horizon=scenario.horizon)
        rerun = timed_plan(engine, now=now, horizon=scenario.horizon)
        ceiling = ceiling or bare_statement(engine, BARE_INSERT, rows=plan["planned"])
        reinsert, _ = bare_statement(engine, BARE_REINSERT)
        with engine.connect() as connection:
            jobs = connection.exec_driver_sql("SELECT count(*) FROM scheduled_jobs").scalar_one()
    return {
        "seed_seconds": round(seeded, 2),
        "plan": plan,
        "rerun": rerun,
        "jobs": int(jobs),
        "ceiling_seconds": round(ceiling[0], 3),
        "ceiling_rows": ceiling[1],
        "reinsert_seconds": round(reinsert, 3),
    }


def run(server: ScratchServer, *, size: str) -> BenchResult:
    trips = SIZES[size]
    result = BenchResult("planning", size)
    result.details = {"trips": trips, "rules": trips // TRIPS_PER_TRAVELLER * RULES_PER_TRAVELLER}
    for scenario in SCENARIOS:
        result.details[scenario.key] = run_scenario(server, scenario, trips=trips)
        _figures(result, scenario)
    _describe(result)
    return result


def _describe(result: BenchResult) -> None:
    d = result.details
    result.setup = [
        f"{d['trips']:,} trips of {d['trips'] // TRIPS_PER_TRAVELLER:,} travellers (eight "
        f"timezones), one pending booking and one expense per trip; {d['rules']:,} active "
        "rules, five per traveller (trip_start 1 and 7 days before, trip_end 1 day after, "
        "booking_pending 48 h, budget_exceeded 90 %), all `send_whatsapp`: "
        f"{d['trips'] * RULES_PER_TRAVELLER:,} (trip, rule) pairs evaluated per run.",
        "A day: dates, bookings and spending spread out, `plan_rules` with the 24-hour "
        "horizon of the trip-reminders flow. Every pair due: all within a 400-day "
        "horizon, one job per pair.",
        "Ceiling: as many rows as planning wrote, by one bare `INSERT … SELECT` of rules "
        "joined with trips (rolled back; for every-pair-due, before planning, into the "
        "empty table); for the re-run, every planned job re-inserted by one bare "
        "`INSERT … ON CONFLICT DO NOTHING` (rolled back).",
    ]
    result.notes = [_breakdown(scenario, d[scenario.key]) for scenario in SCENARIOS]


def _breakdown(scenario: Scenario, d: dict[str, Any]) -> str:
    def spent(run: dict[str, Any]) -> str:
        parts = ", ".join(f"{label} {seconds:.2f}" for label, seconds in run["statements"].items())
        return f"{run['seconds']:.2f} s ({parts})"

    return (
        f"Where the time goes, {scenario.label}: plan {spent(d['plan'])}; re-run "
        f"{spent(d['rerun'])}. Seeding took {d['seed_seconds']:.1f} s."
    )


def _figures(result: BenchResult, scenario: Scenario) -> None:
    d = result.details[scenario.key]
    plan, rerun = d["plan"], d["rerun"]
    result.add(
        Figure(
            f"plan, {scenario.label}: {plan['planned']:,} jobs",
            plan["seconds"],
            "s",
            reference=d["ceiling_seconds"],
            reference_label=f"bare INSERT … SELECT of {d['ceiling_rows']:,} rows",
            target=f"≤ {PLAN_SECONDS:g} s",
            met=plan["planned"] == d["jobs"] and plan["seconds"] <= PLAN_SECONDS,
        )
    )
    result.add(
        Figure(
            f"re-run, {scenario.label}: {rerun['planned']:,} inserted",
            rerun["seconds"],
            "s",
            reference=d["reinsert_seconds"],
            reference_label="bare re-insert, all conflicting",
            target=f"≤ {RERUN_SECONDS:g} s, inserting 0",
            met=rerun["planned"] == 0 and rerun["seconds"] <= RERUN_SECONDS,
        )
    )
