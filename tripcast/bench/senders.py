"""Senders: three business numbers dispatched at once, each at its own rate.

One fake Cloud API in its own process (100 ms latency, Meta's limits lifted) serves three
phone number ids: a Portuguese, a Spanish and a US number at 20, 40 and 80 messages/s
(``whatsapp_senders.send_rate``). A backlog of template messages, one traveller each,
is routed across them by the travellers' calling codes, in proportion to the rates and
interleaved in the queue so every claimed batch holds all three. ``run_dispatch``
drains it as ``TRIPCAST_SEND_RATE=80`` configures it. Per number, the fake's busiest
sliding second is held against that number's rate; across them, the busiest second and
the achieved rate against the sum of the rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from tripcast.bench.database import ScratchServer
from tripcast.bench.dispatch_measure import measure_dispatch
from tripcast.bench.results import BenchResult, Figure
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.models.senders import WhatsAppSenderCreate
from tripcast.senders.registry import add_sender
from tripcast.whatsapp.fake import FakeCloudApi, running_fake_cloud_api
from tripcast.whatsapp.throughput import bench_config

LATENCY = 0.1
DEFAULT_RATE = 80.0
ACHIEVED_SHARE = 0.90  # the aggregate's target share of the sum of the rates


@dataclass(frozen=True)
class BenchSender:
    phone_number_id: str
    market: str  # a calling code
    prefix: str  # the travellers' numbers: prefix + 7 digits from first
    first: int
    rate: float


SENDERS = (
    BenchSender("300000000000351", "351", "35191", 0, 20.0),
    BenchSender("300000000000034", "34", "3461", 0, 40.0),
    BenchSender("300000000000001", "1", "1617", 2_000_000, 80.0),  # 617-200-xxxx: valid
)
SIZES = {"small": 3.0, "full": 20.0}  # seconds of sending at the rates

# Travellers of one market, each with one pending template; created_at spaces them at
# the number's rate, so the queue's order interleaves the numbers in proportion.
SEED = """
WITH users AS (
  INSERT INTO auth.users (id, email)
  SELECT gen_random_uuid(), 'bench-' || %(market)s || '-' || g || '@example.test'
  FROM generate_series(1, %(n)s) AS g
  RETURNING id
), numbered AS (
  SELECT id, row_number() OVER () AS g FROM users
), accounts AS (
  INSERT INTO public.whatsapp_accounts
    (user_id, phone_number, country_code, is_verified, opt_in_status)
  SELECT id, %(prefix)s || lpad((g + %(first)s)::text, 7, '0'), %(market)s, true, 'opted_in'
  FROM numbered
  RETURNING id, user_id, phone_number
)
INSERT INTO public.whatsapp_messages
  (user_id, whatsapp_account_id, direction, message_type, content, metadata, created_at)
SELECT user_id, id, 'outbound', 'template', 'Your trip starts tomorrow',
       jsonb_build_object('template', jsonb_build_object(
         'name', 'trip_reminder', 'language', jsonb_build_object('code', 'en_US'),
         'components', '[]'::jsonb)),
       now() - interval '1 hour'
         + ((right(phone_number, 7)::int - %(first)s) / %(rate)s) * interval '1 second'
FROM accounts
"""


def seed(engine: Engine, *, seconds: float) -> dict[str, int]:
    """The three senders and their backlogs; messages per number."""
    counts = {s.phone_number_id: round(s.rate * seconds) for s in SENDERS}
    with engine.begin() as connection:
        for s in SENDERS:
            add_sender(
                connection,
                WhatsAppSenderCreate(
                    phone_number_id=s.phone_number_id, markets=[s.market], send_rate=s.rate
                ),
            )
            params = {"n": counts[s.phone_number_id], "market": s.market, "prefix": s.prefix,
                      "first": s.first, "rate": s.rate}  # fmt: skip
            connection.exec_driver_sql(SEED, params)
        connection.exec_driver_sql("ANALYZE")
    return counts


def run(server: ScratchServer, *, size: str) -> BenchResult:
    result = BenchResult("senders", size)
    with (
        running_fake_cloud_api(bench_config(LATENCY), in_subprocess=True) as fake,
        server.fresh() as engine,
    ):
        counts = seed(engine, seconds=SIZES[size])
        settings = DispatchSettings(send_rate=DEFAULT_RATE)
        measured = measure_dispatch(engine, fake, settings, batch_size=1000)
        result.details = {
            "seconds_planned": SIZES[size],
            "dispatch": measured,
            "margin": settings.rate_margin,
            "per_sender": [per_sender(fake, s, counts[s.phone_number_id]) for s in SENDERS],
            "aggregate": aggregate(fake),
        }
    describe(result)
    return result


def achieved(moments: list[float]) -> float:
    moments = sorted(moments)
    span = moments[-1] - moments[0] if len(moments) > 1 else 0.0
    return round((len(moments) - 1) / span, 2) if span else 0.0


def per_sender(fake: FakeCloudApi, sender: BenchSender, planned: int) -> dict[str, Any]:
    moments = [
        m["accepted_epoch"]
        for m in fake.accepted()
        if m.get("phone_number_id") == sender.phone_number_id
    ]
    histogram = fake.histogram(phone_number_id=sender.phone_number_id)
    return {
        "phone_number_id": sender.phone_number_id,
        "market": sender.market,
        "rate": sender.rate,
        "planned": planned,
        "accepted": len(moments),
        "achieved_per_second": achieved(moments),
        "max_in_1s": histogram["max_in_1s"],
        "busiest_calendar_second": max((n for _, n in histogram["per_second"]), default=0),
    }


def aggregate(fake: FakeCloudApi) -> dict[str, Any]:
    moments = [m["accepted_epoch"] for m in fake.accepted()]
    histogram = fake.histogram()
    return {
        "rate": sum(s.rate for s in SENDERS),
        "accepted": len(moments),
        "achieved_per_second": achieved(moments),
        "max_in_1s": histogram["max_in_1s"],
    }


def describe(result: BenchResult) -> None:
    d = result.details
    rates = " / ".join(f"{s.rate:g}" for s in SENDERS)
    result.setup = [
        "Fake Cloud API in its own process, answering every send after 100 ms, Meta's "
        "limits lifted; one traveller per message.",
        f"Three senders at {rates} messages/s (`whatsapp_senders.send_rate`), markets "
        f"{', '.join('+' + s.market for s in SENDERS)}; {d['seconds_planned']:g} s of "
        "template messages for each at its rate, routed by the travellers' calling codes "
        "and interleaved in the queue; one `run_dispatch` drains them with "
        f"`TRIPCAST_SEND_RATE=80` ({d['margin']:.0%} margin).",
    ]
    sent = d["dispatch"]
    result.notes = [
        f"{sent['sent']:,} sent and {sent['logged']:,} delivery logs in {sent['seconds']} s; "
        f"outcomes {sent['outcomes']}."
    ]
    for s in d["per_sender"]:
        result.notes.append(
            f"+{s['market']} ({s['rate']:g}/s): {s['accepted']:,} accepted at "
            f"{s['achieved_per_second']}/s, busiest calendar second "
            f"{s['busiest_calendar_second']}."
        )
        result.add(
            Figure(
                f"busiest sliding second, +{s['market']} at {s['rate']:g}/s",
                float(s["max_in_1s"]),
                "msgs",
                reference=s["rate"],
                reference_label="its rate",
                target=f"≤ {s['rate']:g}",
                met=s["accepted"] == s["planned"] and s["max_in_1s"] <= s["rate"],
            )
        )
    add_aggregate(result, d["aggregate"])


def add_aggregate(result: BenchResult, total: dict[str, Any]) -> None:
    limit = float(total["rate"])
    result.add(
        Figure(
            "busiest sliding second, three senders together",
            float(total["max_in_1s"]),
            "msgs",
            reference=limit,
            reference_label="sum of the rates",
            target=f"≤ {limit:g}",
            met=total["max_in_1s"] <= limit,
        )
    )
    result.add(
        Figure(
            "achieved rate, three senders together",
            float(total["achieved_per_second"]),
            "msgs/s",
            reference=limit,
            reference_label="sum of the rates",
            target=f"≥ {ACHIEVED_SHARE:.0%} of {limit:g}/s",
            met=total["achieved_per_second"] >= ACHIEVED_SHARE * limit,
        )
    )
