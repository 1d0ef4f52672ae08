"""The outbox notification: a claim and an in-flight mark are silent, the settling
write is not, so listeners hear each message's news once and not the dispatcher's
bookkeeping."""

from __future__ import annotations

import json

import psycopg
from sqlalchemy.engine import Engine

from tests.dispatch.conftest import NOW
from tests.dispatch.test_store import claim, mark, queue
from tripcast.dispatch import store
from tripcast.dispatch.follow import CHANNEL
from tripcast.dispatch.outcomes import Outcome
from tripcast.webhooks.deliveries import psycopg_conninfo


def heard(listener: psycopg.Connection) -> list[dict[str, str]]:
    return [json.loads(n.payload) for n in listener.notifies(timeout=0.5)]


def test_claim_and_mark_notify_nobody_and_the_outcome_does(engine: Engine) -> None:
    conninfo = psycopg_conninfo(engine.url.render_as_string(hide_password=False))
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        (message_id,) = queue(engine, 1)
        assert [n["op"] for n in heard(listener)] == ["INSERT"]

        assert claim(engine, "a") == {message_id}
        assert mark(engine, {message_id}, "a") == {message_id}
        assert heard(listener) == []

        sent = Outcome(message_id, "sent", "sent", 0, external_id="wamid.Q", sent_at=NOW)
        with engine.begin() as connection:
            store.write_outcomes(connection, [sent], [], owner="a")
        assert heard(listener) == [
            {"op": "UPDATE", "id": str(message_id), "direction": "outbound", "status": "sent"}
        ]


def test_a_claim_given_back_wakes_the_followers(engine: Engine) -> None:
    conninfo = psycopg_conninfo(engine.url.render_as_string(hide_password=False))
    (message_id,) = queue(engine, 1)
    assert claim(engine, "a") == {message_id}
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        back = Outcome(message_id, "deferred", "pending", 0, keep_started=False)
        with engine.begin() as connection:
            store.write_outcomes(connection, [back], [], owner="a")
        assert [(n["id"], n["status"]) for n in heard(listener)] == [(str(message_id), "pending")]
