"""One POST of 1,000 updates of every kind, as Meta may send: receipts and messages mixed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import make_outbound, make_traveller, rows
from tests.webhooks.conftest import post
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)
LADDERS = {
    "read": ["sent", "delivered", "read"],  # 150 messages
    "failed": ["sent", "failed"],  # 100 messages
    "delivered": ["delivered", "delivered"],  # 50 messages, each receipt twice
}
COUNTS = {"read": 150, "failed": 100, "delivered": 50}


def counts(engine: Engine, sql: str) -> dict[str, int]:
    return {row["k"]: row["n"] for row in rows(engine, sql)}


def test_a_thousand_mixed_updates_in_one_post(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    statuses, messages = [], []
    with engine.begin() as connection:
        travellers = [make_traveller(connection) for _ in range(25)]
        for outcome, count in COUNTS.items():
            for _ in range(count):
                wamid = meta.new_wamid()
                make_outbound(connection, travellers[0], wamid=wamid)
                errors = [meta.meta_error(131049, "Marketing message limit")]
                statuses += [
                    meta.status(
                        wamid, name, T0 + n * S, errors=errors if name == "failed" else None
                    )
                    for n, name in enumerate(LADDERS[outcome])
                ]
    for n, traveller in enumerate(travellers[:24]):  # ten messages each, one a STOP
        texts = ["STOP" if n == 1 and i == 0 else f"message {i}" for i in range(10)]
        messages += [meta.text_message(traveller.phone, t, T0 + i * S) for i, t in enumerate(texts)]
    messages += [meta.text_message("447700900123", f"who? {i}", T0) for i in range(10)]
    items = statuses + messages
    assert (len(statuses), len(messages)) == (750, 250)
    random.Random(3).shuffle(items)
    data = meta.payload(
        statuses=[i for i in items if "status" in i], messages=[i for i in items if "from" in i]
    )
    assert post(http, receiver.url, data).status_code == 200
    report = drain(engine)
    assert (report.receipts, report.inbound_stored, report.unknown_senders) == (750, 240, 10)
    assert (report.opted_out, report.cancelled_messages) == (1, 0)
    outbound = counts(
        engine,
        "SELECT status AS k, count(*) AS n FROM whatsapp_messages "
        "WHERE direction = 'outbound' GROUP BY status",
    )
    assert outbound == {"read": 150, "failed": 100, "delivered": 50}
    logs = counts(engine, "SELECT status AS k, count(*) AS n FROM delivery_logs GROUP BY status")
    assert logs == {"delivered": 200, "failed": 100}
    reasons = counts(
        engine,
        "SELECT failed_reason AS k, count(*) AS n FROM whatsapp_messages "
        "WHERE status = 'failed' GROUP BY 1",
    )
    assert reasons == {"131049: Marketing message limit": 100}
    opted = counts(
        engine, "SELECT opt_in_status AS k, count(*) AS n FROM whatsapp_accounts GROUP BY 1"
    )
    assert opted == {"opted_in": 24, "opted_out": 1}
