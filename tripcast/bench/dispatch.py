"""Dispatch: throughput with the rate lifted, rate accuracy at 80/s, the seed's design.

Everything runs against one fake Cloud API in its own process, answering each send after
100 ms with Meta's limits lifted. The ceiling is a bare ``WhatsAppClient`` against that
fake (256 in flight, no database), measured just before and just after the throughput
run; the figure is compared with the higher of the two.

The rate check runs the dispatcher as ``TRIPCAST_SEND_RATE=80`` configures it (4 %
safety margin), then once more with the 10 % margin that was the default before, to
show what the margin costs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.engine import Engine

from tripcast.bench.cpu import cpu_meter, describe
from tripcast.bench.database import ScratchServer
from tripcast.bench.dispatch_figures import add_figures, describe_run
from tripcast.bench.dispatch_measure import measure_dispatch, seed
from tripcast.bench.results import BenchResult
from tripcast.bench.seed_design import measure_seed_design, seed_travellers
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.whatsapp.fake import FakeCloudApi, running_fake_cloud_api
from tripcast.whatsapp.throughput import bench_config, measure_client_throughput

LATENCY = 0.1
SEND_RATE = 80.0
EXPERIMENT_MARGIN = 0.10


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
            after = ceiling(fake, plan)
            offset = plan.backlog
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
        "ceiling_after": after,
        "throughput": throughput,
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
    return measured | {"cores": cores, "cores_text": describe(cores)}


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
