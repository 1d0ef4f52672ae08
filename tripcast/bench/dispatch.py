"""Dispatch: throughput with the rate lifted, rate accuracy at 80/s, the seed's design.

Everything runs against one fake Cloud API in its own process, answering each send after
100 ms with Meta's limits lifted. The ceiling is a bare ``WhatsAppClient`` against that
fake (256 in flight, no database), measured before, between and after the throughput
runs; both are compared with the highest. Throughput is measured twice over a backlog of
its own: one dispatcher process (256 in flight), and two always-on followers in
processes of their own draining one backlog together (128 in flight each, the same 256
in all), each run checked for exactly once: every message accepted once, sent and
logged.

The rate check runs the dispatcher as ``TRIPCAST_SEND_RATE=80`` configures it (4 %
safety margin), then once more with the 10 % margin that was the default before, to
show what the margin costs.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.engine import Engine

from tripcast.bench.cpu import cpu_meter, describe
from tripcast.bench.database import ScratchServer
from tripcast.bench.dispatch_figures import add_figures, describe_run
from tripcast.bench.dispatch_measure import COUNTS, measure_dispatch, seed
from tripcast.bench.follow_child import DONE, READY
from tripcast.bench.results import BenchResult
from tripcast.bench.seed_design import measure_seed_design, seed_travellers
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.whatsapp.fake import FakeCloudApi, running_fake_cloud_api
from tripcast.whatsapp.throughput import bench_config, measure_client_throughput

LATENCY = 0.1
SEND_RATE = 80.0
EXPERIMENT_MARGIN = 0.10
FOLLOWERS = 2


@dataclass(frozen=True)
class DispatchSize:
    backlog: int
    rate_messages: int
    baseline_messages: int
    ceiling_requests: int
    batch_size: int = 1000
    in_flight: int = 256
    lanes: int = 3


SIZES = {
    "small": DispatchSize(backlog=400, rate_messages=60, baseline_messages=5, ceiling_requests=300),
    "full": DispatchSize(
        backlog=100_000, rate_messages=800, baseline_messages=100, ceiling_requests=6000
    ),
}


def run(server: ScratchServer, *, size: str) -> BenchResult:
    plan = SIZES[size]
    result = BenchResult("dispatch", size)
    config = bench_config(LATENCY)
    with running_fake_cloud_api(config, in_subprocess=True) as fake:
        before = ceiling(fake, plan)
        with server.fresh() as engine:
            seed(engine, plan.backlog, offset=0)
            throughput = measure_throughput(engine, fake, plan=plan)
            between = ceiling(fake, plan)
            followers = measure_followers(engine, fake, plan=plan, offset=plan.backlog)
            after = ceiling(fake, plan)
        # A fresh database for the rate checks: autovacuum working through the 200,000
        # rows just sent would otherwise share the cores with the paced dispatcher.
        with server.fresh() as engine:
            offset = 0
            rate = measure_rate(engine, fake, plan=plan, offset=offset, margin=None)
            offset += plan.rate_messages
            experiment = measure_rate(
                engine, fake, plan=plan, offset=offset, margin=EXPERIMENT_MARGIN
            )
            fake.reset(config)
            travellers = seed_travellers(engine, plan.baseline_messages)
            baseline = measure_seed_design(
                engine, lambda: fake.client(timeout=10.0), users=travellers
            )
    result.details = {
        "plan": plan.__dict__,
        "ceiling_before": before,
        "ceiling_between": between,
        "ceiling_after": after,
        "throughput": throughput,
        "followers": followers,
        "rate": rate,
        "rate_experiment": experiment,
        "seed_design": baseline,
    }
    describe_run(result)
    add_figures(result, limit=SEND_RATE)
    return result


def ceiling(fake: FakeCloudApi, plan: DispatchSize) -> dict[str, Any]:
    return asyncio.run(
        measure_client_throughput(
            base_url=fake.base_url,
            requests=plan.ceiling_requests,
            concurrency=plan.in_flight,
            max_seconds=30.0,
        )
    )


def measure_throughput(engine: Engine, fake: FakeCloudApi, *, plan: DispatchSize) -> dict[str, Any]:
    fake.reset(bench_config(LATENCY))
    lifted = DispatchSettings(send_rate=None, max_in_flight=plan.in_flight, lanes=plan.lanes)
    with cpu_meter() as cores:
        measured = measure_dispatch(engine, fake, lifted, batch_size=plan.batch_size)
    return (
        measured
        | exactly_once(engine, fake, plan.backlog)
        | {
            "cores": cores,
            "cores_text": describe(cores),
        }
    )


def exactly_once(engine: Engine, fake: FakeCloudApi, backlog: int) -> dict[str, Any]:
    """Whether the fake accepted each message of the backlog once, and every one is
    sent with its delivery log (counted since the fake's last reset)."""
    calls = [item["callback_data"] for item in fake.accepted()]
    return {
        "accepted": len(calls),
        "accepted_distinct": len(set(calls)),
        "exactly_once": len(calls) == len(set(calls)) == backlog,
    }


def measure_followers(
    engine: Engine, fake: FakeCloudApi, *, plan: DispatchSize, offset: int
) -> dict[str, Any]:
    """Two followers, started and listening, then a backlog committed at once: from the
    commit until every message is sent and logged."""
    fake.reset(bench_config(LATENCY))
    sent_before, logged_before = _counts(engine)
    followers = [_start_follower(engine, fake, plan, index) for index in range(FOLLOWERS)]
    try:
        for follower in followers:
            _read_until(follower, READY)
        seed(engine, plan.backlog, offset=offset)
        with cpu_meter() as cores:
            started = time.perf_counter()
            sent, logged = _wait_drained(
                engine, sent=sent_before + plan.backlog, logged=logged_before + plan.backlog
            )
            seconds = time.perf_counter() - started
        reports = [_stop(follower) for follower in followers]
    finally:
        for follower in followers:
            if follower.poll() is None:
                follower.kill()
                follower.wait()
    return {
        "followers": FOLLOWERS,
        "in_flight_each": plan.in_flight // FOLLOWERS,
        "sent": sent - sent_before,
        "logged": logged - logged_before,
        "seconds": round(seconds, 2),
        "per_second": round((sent - sent_before) / seconds, 1),
        "claimed_each": [report["claimed"] for report in reports],
        "cores": cores,
        "cores_text": describe(cores),
    } | exactly_once(engine, fake, plan.backlog)


def _start_follower(
    engine: Engine, fake: FakeCloudApi, plan: DispatchSize, index: int
) -> subprocess.Popen[str]:
    in_flight = plan.in_flight // FOLLOWERS
    job = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "client": fake.client_options() | {"timeout": 10.0, "max_connections": in_flight},
        "in_flight": in_flight,
        "lanes": plan.lanes,
        "batch_size": plan.batch_size,
        "owner": f"bench-follower-{index}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tripcast.bench.follow_child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(job) + "\n")
    process.stdin.close()
    return process


def _read_until(process: subprocess.Popen[str], prefix: str) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(prefix):
            return line[len(prefix) :]
    raise RuntimeError(f"a follower exited ({process.wait()}) before saying {prefix.strip()!r}")


def _stop(process: subprocess.Popen[str]) -> dict[str, Any]:
    process.send_signal(signal.SIGTERM)
    report: dict[str, Any] = json.loads(_read_until(process, DONE))
    process.wait(timeout=60)
    return report


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        sent, logged = connection.exec_driver_sql(COUNTS).one()
    return int(sent), int(logged)


def _wait_drained(
    engine: Engine, *, sent: int, logged: int, timeout: float = 900.0
) -> tuple[int, int]:
    """Poll until ``sent`` messages are sent and ``logged`` delivery logs written (both
    totals), or ``timeout`` passed; the totals last read."""
    deadline = time.monotonic() + timeout
    while True:
        now_sent, now_logged = _counts(engine)
        if (now_sent >= sent and now_logged >= logged) or time.monotonic() > deadline:
            return now_sent, now_logged
        time.sleep(0.05)


def measure_rate(
    engine: Engine, fake: FakeCloudApi, *, plan: DispatchSize, offset: int, margin: float | None
) -> dict[str, Any]:
    """``TRIPCAST_SEND_RATE=80`` with the default margin (``None``) or ``margin``."""
    seed(engine, plan.rate_messages, offset=offset)
    fake.reset(bench_config(LATENCY))
    paced = DispatchSettings(send_rate=SEND_RATE, max_in_flight=plan.in_flight)
    if margin is not None:
        paced = replace(paced, rate_margin=margin)
    measured = measure_dispatch(engine, fake, paced, batch_size=plan.batch_size)
    moments = sorted(m["accepted_epoch"] for m in fake.accepted())
    span = moments[-1] - moments[0] if len(moments) > 1 else 0.0
    histogram = fake.histogram()
    return measured | {
        "margin": paced.rate_margin,
        "paced_rate": paced.paced_rate,
        "accepted": len(moments),
        "achieved_per_second": round((len(moments) - 1) / span, 2) if span else 0.0,
        "max_in_1s": histogram["max_in_1s"],
        "busiest_calendar_second": max((n for _, n in histogram["per_second"]), default=0),
    }
