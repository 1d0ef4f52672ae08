"""Webhook: acknowledgement latency under paced load, and statuses applied per second.

Latency: the receiver (``running_receiver``: uvicorn in a thread of this process, which
does nothing else meanwhile) takes one-status deliveries from the load generator, a
separate process on loopback, paced open-loop. Its ceiling is the same receiver app with
a store that keeps nothing (no database), under the same load, in the same run.

Ingest: sent messages and stored deliveries of 100 receipts each (every message's
``delivered``, then its ``read``), applied by ``drain``. Its ceiling is the same row
changes by bare set-based statements (the two updates and the delivery logs), rolled
back.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import uvicorn
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from tripcast.bench.database import ScratchServer
from tripcast.bench.loadgen import LoadSettings
from tripcast.bench.results import BenchResult, Figure
from tripcast.bench.webhook_sql import BARE_APPLY, DELIVERIES, SENT_MESSAGES
from tripcast.webhooks import ReceiverConfig, create_app, drain, running_receiver

APP_SECRET = "bench-app-secret"
VERIFY_TOKEN = "bench-verify-token"
P99_MS = 50.0
P50_MS = 250.0  # Meta's documented expectation for the median
INGEST_PER_SECOND = 5000.0


@dataclass(frozen=True)
class WebhookSize:
    rate: float
    seconds: float
    warmup_seconds: float
    messages: int  # for the ingest: twice as many receipts
    per_delivery: int = 100


SIZES = {
    "small": WebhookSize(rate=100, seconds=1.0, warmup_seconds=0.3, messages=500),
    "full": WebhookSize(rate=500, seconds=20.0, warmup_seconds=2.0, messages=50_000),
}


class NullStore:
    """A delivery store that keeps nothing: the receiver's ceiling without a database."""

    async def store(self, *, digest: str, body: str, items: int) -> bool:
        return True

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


@contextlib.contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """``app`` on a free loopback port, served as the receiver is; yields the POST URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, access_log=False, log_level="warning", backlog=2048)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the ceiling receiver did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/webhooks/whatsapp"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def offer_load(url: str, size: WebhookSize) -> dict[str, Any]:
    """Run the load generator in its own process against ``url``; its results."""
    settings = LoadSettings(
        url=url,
        app_secret=APP_SECRET,
        rate=size.rate,
        seconds=size.seconds,
        warmup_seconds=size.warmup_seconds,
    )
    done = subprocess.run(
        [sys.executable, "-m", "tripcast.bench.loadgen"],
        input=json.dumps(asdict(settings)) + "\n",
        capture_output=True,
        text=True,
        timeout=size.seconds * 4 + 60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed: {done.stderr.strip()[-500:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure_latency(engine: Engine, size: WebhookSize) -> dict[str, Any]:
    ceiling_app = create_app(store=NullStore(), app_secret=APP_SECRET, verify_token=VERIFY_TOKEN)  # type: ignore[arg-type]
    with serving(ceiling_app) as url:
        ceiling = offer_load(url, size)
    config = ReceiverConfig(
        database_url=engine.url.render_as_string(hide_password=False),
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
    )
    with running_receiver(config) as receiver:
        measured = offer_load(receiver.url, size)
    with engine.begin() as connection:
        stored = connection.exec_driver_sql("DELETE FROM public.webhook_deliveries").rowcount
    return {"ceiling": ceiling, "receiver": measured, "stored": stored}


def measure_ingest(engine: Engine, size: WebhookSize) -> dict[str, Any]:
    params = {"n": size.messages, "per": size.per_delivery, "run": f"{time.time_ns():x}"}
    with engine.begin() as connection:
        connection.exec_driver_sql(SENT_MESSAGES, params)
        connection.exec_driver_sql(DELIVERIES, params)
    _vacuum(engine)
    with engine.connect() as connection:
        transaction = connection.begin()
        started = time.perf_counter()
        for statement in BARE_APPLY:
            connection.exec_driver_sql(statement, params)
        bare_seconds = time.perf_counter() - started
        transaction.rollback()
    _vacuum(engine)
    started = time.perf_counter()
    report = drain(engine)
    seconds = time.perf_counter() - started
    return {
        "receipts": report.receipts,
        "matched": report.receipts_matched,
        "updated": dict(report.messages_updated),
        "delivery_logs": report.delivery_logs,
        "deliveries": report.deliveries,
        "seconds": round(seconds, 3),
        "per_second": round(report.receipts / seconds, 1) if seconds else 0.0,
        "bare_seconds": round(bare_seconds, 3),
        "bare_per_second": round(2 * size.messages / bare_seconds, 1) if bare_seconds else 0.0,
        "read": _count(engine, "SELECT count(*) FROM whatsapp_messages WHERE status = 'read'"),
    }


def _vacuum(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(sql).scalar_one())


def run(server: ScratchServer, *, size: str) -> BenchResult:
    plan = SIZES[size]
    result = BenchResult("webhook", size)
    with server.fresh() as engine:
        result.details = {"latency": measure_latency(engine, plan)}
        result.details["ingest"] = measure_ingest(engine, plan)
    _describe(result, plan)
    _figures(result, plan)
    return result


def _describe(result: BenchResult, plan: WebhookSize) -> None:
    result.setup = [
        f"Latency: {plan.rate:g} signed one-status deliveries per second for "
        f"{plan.seconds:g} s (after {plan.warmup_seconds:g} s of warm-up) from a load "
        "generator in its own process, open-loop: each latency runs from the request's due "
        "time to the answer. The receiver runs in a thread of the bench process (uvicorn, "
        "one INSERT committed per delivery before the 200).",
        "Latency ceiling: the same receiver app with a store that keeps nothing, under the "
        "same load.",
        f"Ingest: {plan.messages:,} sent messages, {2 * plan.messages:,} receipts "
        f"(`delivered`, then `read`) in deliveries of {plan.per_delivery}, applied by "
        "`drain` (default policy: 100 deliveries per transaction). Ceiling: the same row "
        "changes and delivery logs by two bare set-based statements, rolled back.",
    ]
    latency, ingest = result.details["latency"], result.details["ingest"]
    result.notes = [_latency_note(name, latency[key]) for key, name in LATENCY_SIDES]
    result.notes += [
        f"{latency['stored']:,} deliveries stored by the receiver during its run.",
        f"Ingest: {ingest['receipts']:,} receipts from {ingest['deliveries']:,} deliveries "
        f"in {ingest['seconds']} s; messages updated {ingest['updated']}, "
        f"{ingest['delivery_logs']:,} delivery logs; the bare statements took "
        f"{ingest['bare_seconds']} s.",
    ]


LATENCY_SIDES = (("ceiling", "Ceiling (no database)"), ("receiver", "Receiver"))


def _latency_note(name: str, side: dict[str, Any]) -> str:
    return (
        f"{name}: p50 {side['p50_ms']} ms, p99 {side['p99_ms']} ms, max {side['max_ms']} ms "
        f"over {side['measured']:,} deliveries offered at {side['offered_per_second']}/s; "
        f"answers {side['statuses']}; launch lateness p99 {side['launch_lateness_p99_ms']} ms."
    )


def _figures(result: BenchResult, plan: WebhookSize) -> None:
    latency = result.details["latency"]
    ceiling, measured = latency["ceiling"], latency["receiver"]
    all_ok = measured["statuses"] == {"200": measured["measured"]}
    held = measured["offered_per_second"] >= 0.95 * plan.rate
    for share, target in (("p50", P50_MS), ("p99", P99_MS)):
        result.add(
            Figure(
                f"acknowledgement {share} at {plan.rate:g} deliveries/s",
                measured[f"{share}_ms"],
                "ms",
                reference=ceiling[f"{share}_ms"],
                reference_label="same app, no database",
                target=f"≤ {target:g} ms" + (" (Meta)" if share == "p50" else ""),
                met=all_ok and held and measured[f"{share}_ms"] <= target,
            )
        )
    ingest = result.details["ingest"]
    complete = ingest["read"] == plan.messages and ingest["matched"] == 2 * plan.messages
    result.add(
        Figure(
            "statuses applied by drain",
            ingest["per_second"],
            "statuses/s",
            reference=ingest["bare_per_second"],
            reference_label="bare set-based updates",
            target=f"≥ {INGEST_PER_SECOND:,.0f}/s",
            met=complete and ingest["per_second"] >= INGEST_PER_SECOND,
        )
    )
