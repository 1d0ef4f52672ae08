"""Dispatch measured on its own: throughput with the rate lifted, and rate accuracy.

The seeding and the measurement here are what ``tripcast bench``'s dispatch benchmark
(``bench/dispatch.py``) runs. ``python -m tripcast.bench.dispatch_measure`` starts the
fake Cloud API in a subprocess (100 ms latency, Meta's limits lifted), creates a scratch
database (on the embedded server unless ``--admin-url`` names another), and measures in
one run:

1. the ceiling: a bare ``WhatsAppClient`` against the same fake, no database;
2. throughput: a backlog of ``--messages`` pending texts, each to its own traveller,
   dispatched with no rate limit, from the first claim to the last outcome and
   delivery log committed;
3. rate accuracy: ``--rate-messages`` at ``--rate`` per second, the fake's busiest
   one-second window against the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine, make_url

from tripcast.dispatch.dispatcher import run_dispatch
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.models import migrate
from tripcast.models.engine import create_db_engine
from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig, running_fake_cloud_api
from tripcast.whatsapp.throughput import measure_client_throughput

# One traveller per message (no pair-rate interplay), all inside the 24-hour window.
SEED = """
WITH users AS (
  INSERT INTO auth.users (id, email)
  SELECT gen_random_uuid(), 'bench-' || g || '@example.test'
  FROM generate_series(1, %(n)s) AS g
  RETURNING id
), numbered AS (
  SELECT id, row_number() OVER () AS g FROM users
), accounts AS (
  INSERT INTO public.whatsapp_accounts
    (user_id, phone_number, country_code, is_verified, opt_in_status, last_inbound_at)
  SELECT id, '35191' || lpad((g + %(offset)s)::text, 7, '0'), 'PT', true, 'opted_in', now()
  FROM numbered
  RETURNING id, user_id
)
INSERT INTO public.whatsapp_messages
  (user_id, whatsapp_account_id, direction, message_type, content)
SELECT user_id, id, 'outbound', 'text', 'Your trip starts tomorrow' FROM accounts
"""
COUNTS = """
SELECT (SELECT count(*) FROM public.whatsapp_messages WHERE status = 'sent'),
       (SELECT count(*) FROM public.delivery_logs WHERE status = 'sent')
"""


@contextmanager
def scratch_database(admin_url: str | None) -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="tc-bench-") as home:
        if admin_url is None:
            from tripcast.models.embedded import embedded_server

            admin_url = str(embedded_server(Path(home)).get_uri("postgres"))
        admin = create_db_engine(
            admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )
        name = f"tripcast_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(str(admin.url)).set(database=name).render_as_string(hide_password=False)
        engine = create_db_engine(url, pool_size=10)
        try:
            migrate.upgrade(engine)
            yield engine
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def seed(engine: Engine, count: int, *, offset: int) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(SEED, {"n": count, "offset": offset})
        connection.exec_driver_sql("ANALYZE")


def measure_dispatch(
    engine: Engine, fake: FakeCloudApi, settings: DispatchSettings, *, batch_size: int
) -> dict[str, Any]:
    before = _counts(engine)
    started = time.perf_counter()
    report = run_dispatch(
        engine,
        client_factory=lambda: fake.client(timeout=10.0),
        settings=settings,
        batch_size=batch_size,
    )
    seconds = time.perf_counter() - started
    (sent_after, logged_after), (sent_before, logged_before) = _counts(engine), before
    sent, logged = sent_after - sent_before, logged_after - logged_before
    return {
        "messages": report.claimed,
        "sent": sent,
        "logged": logged,
        "seconds": round(seconds, 2),
        "per_second": round(sent / seconds, 1),
        "batches": report.batches,
        "outcomes": {kind: n for kind, n in report.counts().items() if n},
    }


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        sent, logged = connection.exec_driver_sql(COUNTS).one()
    return int(sent), int(logged)


def run(args: argparse.Namespace) -> dict[str, Any]:
    config = FakeCloudApiConfig(
        latency_seconds=args.latency,
        throughput_per_second=None,
        pair_rate_window_seconds=None,
        enforce_service_window=False,
    )
    results: dict[str, Any] = {}
    with running_fake_cloud_api(config, in_subprocess=True) as fake:
        results["ceiling"] = asyncio.run(
            measure_client_throughput(
                base_url=fake.base_url, requests=3000, concurrency=args.in_flight
            )
        )
        with scratch_database(args.admin_url) as engine:
            seed(engine, args.messages, offset=0)
            fake.reset(config)
            lifted = DispatchSettings(
                send_rate=None, max_in_flight=args.in_flight, lanes=args.lanes
            )
            results["throughput"] = measure_dispatch(
                engine, fake, lifted, batch_size=args.batch_size
            )
            seed(engine, args.rate_messages, offset=args.messages)
            fake.reset(config)
            paced = DispatchSettings(send_rate=args.rate, max_in_flight=args.in_flight)
            results["rate"] = measure_dispatch(engine, fake, paced, batch_size=args.batch_size)
            histogram = fake.histogram()
            results["rate"] |= {
                "limit": args.rate,
                "max_in_1s": histogram["max_in_1s"],
                "busiest_calendar_second": max(n for _, n in histogram["per_second"]),
            }
    results["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rate-messages", type=int, default=800)
    parser.add_argument("--rate", type=float, default=80.0)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--lanes", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--admin-url", help="a postgresql:// URL allowed to create databases")
    results = run(parser.parse_args(argv))
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
