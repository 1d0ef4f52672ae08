"""The webhook receiver counts each answer in ``tripcast_webhook_deliveries_total`` and
serves the metrics on its own port."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.metrics.support import parse, value
from tests.webhooks import meta
from tests.webhooks.conftest import post
from tripcast.webhooks.receiver_server import BackgroundReceiver


def deliveries(receiver: BackgroundReceiver, http: httpx.Client) -> dict[str, float]:
    samples = parse(http.get(receiver.base_url + "/metrics").text)
    outcomes = ("stored", "duplicate", "unsigned", "bad_signature", "malformed", "too_large")
    counts = {o: value(samples, "tripcast_webhook_deliveries_total", outcome=o) for o in outcomes}
    return {outcome: count or 0.0 for outcome, count in counts.items()}


def test_each_answer_is_counted_and_the_backlog_shows_the_stored_one(
    receiver: BackgroundReceiver, http: httpx.Client
) -> None:
    receipt = meta.status(meta.new_wamid(), "sent", datetime.now(UTC))
    raw = meta.body(meta.payload(statuses=[receipt]))
    before = deliveries(receiver, http)
    answers = [
        post(http, receiver.url, raw),
        post(http, receiver.url, raw),
        post(http, receiver.url, raw, secret=None),
        post(http, receiver.url, raw, signature="sha256=" + "0" * 64),
        post(http, receiver.url, b"not json"),
        post(http, receiver.url, b"x" * (3 * 1024 * 1024 + 1)),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 401, 403, 400, 413]
    after = deliveries(receiver, http)
    assert {outcome: after[outcome] - before[outcome] for outcome in before} == {
        "stored": 1,
        "duplicate": 1,
        "unsigned": 1,
        "bad_signature": 1,
        "malformed": 1,
        "too_large": 1,
    }
    samples = parse(http.get(receiver.base_url + "/metrics").text)
    assert value(samples, "tripcast_webhook_backlog") == 1
