"""Scale: claiming a batch of due messages with 10K, then 1M rows in whatsapp_messages.

The table holds a year of history at the seed's estimate (mostly delivered and read,
some failed, a tenth inbound) and a queue of the same size in both cases: 2,000 due
pending messages (three quarters inserted with only the seed's columns, a quarter
retries due by time) and 200 retries due later. The history is bulk-loaded with one
``INSERT … SELECT`` over ``generate_series`` (the realtime trigger is disabled while
loading; it is not what is measured), then ``VACUUM ANALYZE``, as autovacuum would.

Each claim is the dispatcher's own (``store.claim_batch``, batch of 1,000), timed inside
a transaction that is rolled back, so every repetition claims the same queue; the
median of the repetitions counts. ``EXPLAIN (ANALYZE, BUFFERS)`` of the claim at 1M rows
shows which index it reads.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from tripcast.bench.database import ScratchServer
from tripcast.bench.results import BenchResult, Figure
from tripcast.dispatch import sql, store

INDEX = "idx_whatsapp_messages_dispatch_queue"
PENDING = 2_000
LATER = 200
BATCH = 1_000
REPEATS = 9


@dataclass(frozen=True)
class ScaleSize:
    small_rows: int
    large_rows: int
    accounts: int


SIZES = {
    "small": ScaleSize(small_rows=3_000, large_rows=30_000, accounts=100),
    "full": ScaleSize(small_rows=10_000, large_rows=1_000_000, accounts=10_000),
}

ACCOUNTS = """
WITH users AS (
  INSERT INTO auth.users (id, email)
  SELECT gen_random_uuid(), 'scale-' || g || '@example.test' FROM generate_series(1, %(n)s) g
  RETURNING id
)
INSERT INTO public.whatsapp_accounts
  (user_id, phone_number, country_code, is_verified, opt_in_status, last_inbound_at)
SELECT id, '35193' || lpad((row_number() OVER ())::text, 7, '0'), 'PT', true, 'opted_in', now()
FROM users
"""

# g numbers the rows; kind: 'history', 'due' (pending, due now), 'later' (due in an hour).
MESSAGES = """
WITH a AS (
  SELECT id, user_id, row_number() OVER (ORDER BY id) - 1 AS n FROM public.whatsapp_accounts
), m AS (
  SELECT g, now() - make_interval(secs => (g %% 31536000)) AS at,
    CASE WHEN %(kind)s::text = 'history' AND g %% 10 = 0 THEN 'inbound' ELSE 'outbound' END AS dir,
    CASE WHEN %(kind)s::text <> 'history' THEN 'pending' WHEN g %% 20 = 1 THEN 'failed'
         WHEN g %% 10 IN (0, 2, 3, 4) THEN 'delivered' ELSE 'read' END AS status
  FROM generate_series(%(first)s::int, %(last)s::int) g
)
INSERT INTO public.whatsapp_messages
  (user_id, whatsapp_account_id, direction, message_type, content, external_id, status,
   created_at, updated_at, sent_at, delivered_at, read_at, failed_at, failed_reason,
   error_code, dedupe_key, next_attempt_at, retry_count)
SELECT a.user_id, a.id, m.dir, CASE WHEN g %% 3 = 0 THEN 'text' ELSE 'template' END,
  'Your trip to Porto starts tomorrow',
  CASE WHEN m.status <> 'pending' THEN 'wamid.bench.' || g END,
  m.status, m.at, m.at,
  CASE WHEN m.dir = 'outbound' AND m.status <> 'pending' THEN m.at END,
  CASE WHEN m.status IN ('delivered', 'read') THEN m.at + interval '2 seconds' END,
  CASE WHEN m.status = 'read' THEN m.at + interval '5 minutes' END,
  CASE WHEN m.status = 'failed' THEN m.at END,
  CASE WHEN m.status = 'failed' THEN '131026: Message undeliverable' END,
  CASE WHEN m.status = 'failed' THEN 131026 END,
  CASE WHEN m.dir = 'outbound' AND g %% 2 = 0 THEN 'bench:' || g END,
  CASE WHEN %(kind)s::text = 'later' THEN now() + interval '1 hour'
       WHEN %(kind)s::text = 'due' AND g %% 4 = 0 THEN now() - interval '1 minute' END,
  CASE WHEN m.status = 'pending' AND g %% 4 = 0 THEN 1 ELSE 0 END
FROM m JOIN a ON a.n = m.g %% %(accounts)s::int
"""


def load(engine: Engine, *, first: int, last: int, kind: str, accounts: int) -> None:
    params = {"first": first, "last": last, "kind": kind, "accounts": accounts}
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "ALTER TABLE public.whatsapp_messages DISABLE TRIGGER whatsapp_messages_notify"
        )
        connection.exec_driver_sql(MESSAGES, params)
        connection.exec_driver_sql(
            "ALTER TABLE public.whatsapp_messages ENABLE TRIGGER whatsapp_messages_notify"
        )


def vacuum(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE public.whatsapp_messages")


def time_claims(engine: Engine, *, repeats: int = REPEATS) -> list[float]:
    """Milliseconds of each rolled-back claim of ``BATCH`` due messages (after a warm-up)."""
    timings = []
    for attempt in range(repeats + 1):
        with engine.connect() as connection:
            transaction = connection.begin()
            now = datetime.now(UTC)
            started = time.perf_counter()
            claimed = store.claim_batch(
                connection, now=now, owner="bench", lease=timedelta(minutes=5), limit=BATCH
            )
            elapsed = (time.perf_counter() - started) * 1000
            transaction.rollback()
        if len(claimed) != BATCH:
            raise RuntimeError(f"claimed {len(claimed)} messages, expected {BATCH}")
        if attempt:
            timings.append(elapsed)
    return timings


def explain_claim(engine: Engine) -> str:
    params = {
        "now": datetime.now(UTC),
        "limit": BATCH,
        "owner": "bench",
        "lease_until": datetime.now(UTC) + timedelta(minutes=5),
    }
    with engine.connect() as connection:
        transaction = connection.begin()
        rows = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql.CLAIM_DUE_MESSAGES, params
        ).all()
        transaction.rollback()
    return "\n".join(row[0] for row in rows)


def count_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.exec_driver_sql("SELECT count(*) FROM whatsapp_messages").scalar_one()
        )


def run(server: ScratchServer, *, size: str) -> BenchResult:
    plan = SIZES[size]
    result = BenchResult("scale", size)
    with server.fresh() as engine:
        with engine.begin() as connection:
            connection.exec_driver_sql(ACCOUNTS, {"n": plan.accounts})
        fill = {"accounts": plan.accounts}
        load(engine, first=1, last=PENDING, kind="due", **fill)
        load(engine, first=PENDING + 1, last=PENDING + LATER, kind="later", **fill)
        load(engine, first=PENDING + LATER + 1, last=plan.small_rows, kind="history", **fill)
        vacuum(engine)
        small = time_claims(engine)
        small_rows = count_rows(engine)
        started = time.perf_counter()
        load(engine, first=plan.small_rows + 1, last=plan.large_rows, kind="history", **fill)
        load_seconds = time.perf_counter() - started
        vacuum(engine)
        large = time_claims(engine)
        large_rows = count_rows(engine)
        explained = explain_claim(engine)
    result.details = {
        "rows": [small_rows, large_rows],
        "claim_ms_small": [round(t, 2) for t in small],
        "claim_ms_large": [round(t, 2) for t in large],
        "load_seconds": round(load_seconds, 2),
        "loaded_rows": large_rows - small_rows,
    }
    result.excerpts[f"claim plan at {large_rows:,} rows"] = explained
    _describe(result)
    _figures(result, small=small, large=large, explained=explained)
    return result


def _describe(result: BenchResult) -> None:
    d = result.details
    small_rows, large_rows = d["rows"]
    rate = d["loaded_rows"] / d["load_seconds"] if d["load_seconds"] else 0.0
    result.setup = [
        f"`whatsapp_messages` at {small_rows:,} rows, then {large_rows:,}: "
        f"{PENDING:,} due pending and {LATER} later retries each time, the rest a year of "
        "history (read, delivered, 5 % failed, a tenth inbound).",
        f"Claim: the dispatcher's `claim_batch` of {BATCH:,} due messages, rolled back, "
        f"median of {REPEATS} after a warm-up.",
        f"Bulk load of {d['loaded_rows']:,} history rows: {d['load_seconds']:.1f} s "
        f"({rate:,.0f} rows/s, one `INSERT … SELECT` over `generate_series`, all indexes "
        "and foreign keys in place).",
    ]


def _figures(
    result: BenchResult, *, small: list[float], large: list[float], explained: str
) -> None:
    small_rows, large_rows = result.details["rows"]
    uses_index = INDEX in explained
    result.add(
        Figure(
            f"claim {BATCH:,} at {small_rows:,} rows (the reference below)",
            round(statistics.median(small), 2),
            "ms",
        )
    )
    result.add(
        Figure(
            f"claim {BATCH:,} at {large_rows:,} rows",
            round(statistics.median(large), 2),
            "ms",
            reference=round(statistics.median(small), 2),
            reference_label=f"the claim at {small_rows:,} rows",
            target=f"≤ 2× the {small_rows:,}-row claim, via {INDEX}",
            met=uses_index and statistics.median(large) <= 2 * statistics.median(small),
        )
    )
