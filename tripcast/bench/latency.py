"""Latency: commit to Cloud API acceptance, with the always-on follower and sweep-only.

Each probe is a utility text message inserted as the application writes one (seed
columns only, to a traveller of its own, so pair spacing never holds it back) and
committed; its latency is its ``sent_at`` (set when the Cloud API answered 200) less the
instant the commit returned. Two queues: idle, and behind a marketing backlog draining at
the shared rate. Two designs in the same run on the same fake Cloud API: the follower
(``dispatch.follow``, in this process), and sweep-only, where a dispatch drain starts at
each sweep period boundary (the minute sweep's cron; a shorter period in the small run)
and runs until the queue is empty, as the sweep's dispatch does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from tripcast.bench.database import ScratchServer
from tripcast.bench.results import BenchResult, Figure, percentile
from tripcast.dispatch import DispatchSettings, run_dispatch
from tripcast.dispatch.follow import FollowOptions, follow
from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig, running_fake_cloud_api

RATE = 80.0


@dataclass(frozen=True)
class LatencySize:
    probes: int
    gap: float  # seconds between two probes
    backlog: int  # marketing messages queued before the probes of the backlog case
    sweep_period: float


SIZES = {
    "small": LatencySize(probes=5, gap=0.3, backlog=400, sweep_period=5.0),
    "full": LatencySize(probes=40, gap=0.5, backlog=6_000, sweep_period=60.0),
}

TRAVELLERS = """
WITH users AS (
  INSERT INTO auth.users (id, email)
  SELECT gen_random_uuid(), 'latency-' || g || '-' || %(tag)s || '@example.test'
  FROM generate_series(1, %(n)s) g
  RETURNING id
)
INSERT INTO public.whatsapp_accounts
  (user_id, phone_number, country_code, is_verified, opt_in_status, last_inbound_at)
SELECT id, '3519' || %(prefix)s || lpad((row_number() OVER ())::text, 7, '0'), 'PT', true,
       'opted_in', now()
FROM users
RETURNING id, user_id
"""

# The backlog's travellers said yes to marketing, or dispatch would cancel it at once.
MARKETING_YES = """
INSERT INTO public.notification_preferences (user_id, marketing)
SELECT unnest(%(users)s::uuid[]), true
"""

BACKLOG = """
INSERT INTO public.whatsapp_messages
  (user_id, whatsapp_account_id, direction, message_type, content, metadata)
SELECT a.user_id, a.id, 'outbound', 'text', 'Our winter sale', '{"category": "marketing"}'
FROM unnest(%(accounts)s::uuid[], %(users)s::uuid[]) AS a(id, user_id)
"""

PROBE = """
INSERT INTO public.whatsapp_messages
  (user_id, whatsapp_account_id, direction, message_type, content)
VALUES (%(user)s, %(account)s, 'outbound', 'text', 'Your gate changed to B12')
RETURNING id
"""

SENT_AT = "SELECT id, sent_at FROM public.whatsapp_messages WHERE id = ANY(%(ids)s)"


def run(server: ScratchServer, *, size: str) -> BenchResult:
    plan = SIZES[size]
    result = BenchResult("latency", size)
    config = FakeCloudApiConfig(
        latency_seconds=0.1, throughput_per_second=None, enforce_service_window=False
    )
    settings = DispatchSettings(send_rate=RATE)
    with running_fake_cloud_api(config, in_subprocess=True) as fake:
        for design, runner in (("follower", _following), ("sweep-only", _sweeping)):
            for queue in ("idle", "backlog"):
                with server.fresh() as engine:
                    fake.reset(config)
                    with runner(engine, fake, settings, plan):
                        latencies = _probe(engine, plan, backlog=queue == "backlog")
                result.details[f"{design} {queue}"] = latencies
    _report(result, plan)
    return result


@contextmanager
def _following(
    engine: Engine, fake: FakeCloudApi, settings: DispatchSettings, plan: LatencySize
) -> Iterator[None]:
    stop: dict[str, Any] = {}
    ready = threading.Event()

    async def main() -> None:
        stop["loop"], stop["event"] = asyncio.get_running_loop(), asyncio.Event()
        ready.set()
        async with fake.client(timeout=10.0) as client:
            await follow(
                engine, client=client, settings=settings, stop=stop["event"],
                options=FollowOptions(),
            )  # fmt: skip

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="bench-follower")
    thread.start()
    ready.wait(30)
    time.sleep(0.5)  # LISTEN is issued once the loop runs its first drain
    try:
        yield
    finally:
        stop["loop"].call_soon_threadsafe(stop["event"].set)
        thread.join(120)


@contextmanager
def _sweeping(
    engine: Engine, fake: FakeCloudApi, settings: DispatchSettings, plan: LatencySize
) -> Iterator[None]:
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            now = time.time()
            if done.wait(plan.sweep_period - now % plan.sweep_period):
                return
            run_dispatch(
                engine, client_factory=lambda: fake.client(timeout=10.0), settings=settings
            )

    thread = threading.Thread(target=loop, name="bench-sweep")
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(300)


def _travellers(engine: Engine, n: int, *, prefix: str) -> list[tuple[Any, Any]]:
    with engine.begin() as connection:
        rows = connection.exec_driver_sql(
            TRAVELLERS, {"n": n, "tag": prefix, "prefix": prefix}
        ).all()
    return [(row.id, row.user_id) for row in rows]


def _probe(engine: Engine, plan: LatencySize, *, backlog: bool) -> list[float]:
    """Commit the probes (after the backlog, if any); their latencies in seconds."""
    if backlog:
        crowd = _travellers(engine, plan.backlog, prefix="1")
        users = [u for _, u in crowd]
        with engine.begin() as connection:
            connection.exec_driver_sql(MARKETING_YES, {"users": users})
            connection.exec_driver_sql(BACKLOG, {"accounts": [a for a, _ in crowd], "users": users})
    committed: dict[Any, datetime] = {}
    for account, user in _travellers(engine, plan.probes, prefix="2"):
        with engine.begin() as connection:
            message_id = connection.exec_driver_sql(
                PROBE, {"user": user, "account": account}
            ).scalar_one()
        committed[message_id] = datetime.now(UTC)
        time.sleep(plan.gap)  # pacing the load generator, not synchronising a test
    return _wait_sent(engine, committed, timeout=plan.sweep_period * 2 + plan.backlog / RATE)


def _wait_sent(engine: Engine, committed: dict[Any, datetime], *, timeout: float) -> list[float]:
    deadline = time.monotonic() + timeout + 30
    while True:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(SENT_AT, {"ids": list(committed)}).all()
        sent = {row.id: row.sent_at for row in rows if row.sent_at is not None}
        if len(sent) == len(committed) or time.monotonic() > deadline:
            return [(sent[m] - committed[m]).total_seconds() for m in sent]
        time.sleep(0.2)


def _report(result: BenchResult, plan: LatencySize) -> None:
    result.setup = [
        f"{plan.probes} utility probes {plan.gap} s apart, each committed alone with the "
        "seed's columns; latency = `sent_at` (Cloud API 200) − the commit's return.",
        f"Backlog case: {plan.backlog:,} marketing messages queued first, draining at "
        f"{RATE:.0f}/s. Fake Cloud API answering in 100 ms, in its own process.",
        f"Sweep-only: a dispatch drain at each {plan.sweep_period:.0f} s boundary.",
    ]
    for key, latencies in result.details.items():
        _figures(result, key, latencies, probes=plan.probes)


def _figures(result: BenchResult, key: str, latencies: list[float], *, probes: int) -> None:
    add: Callable[[Figure], Figure] = result.add
    if len(latencies) < probes:
        result.notes.append(f"{key}: only {len(latencies)} of {probes} probes were sent in time")
    if not latencies:
        return
    goal = {"follower idle": 1.0, "follower backlog": 2.0}.get(key)
    p99 = percentile(latencies, 0.99)
    add(Figure(f"{key}: p50", round(percentile(latencies, 0.5), 3), "s"))
    add(
        Figure(
            f"{key}: p99",
            round(p99, 3),
            "s",
            target=f"≤ {goal:.0f} s" if goal else "",
            met=(p99 <= goal and len(latencies) == probes) if goal else None,
        )
    )
    add(Figure(f"{key}: max", round(max(latencies), 3), "s"))
