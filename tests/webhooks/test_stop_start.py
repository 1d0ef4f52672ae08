"""STOP / START from travellers: opt-in status, queued messages and jobs, consent events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.support.world import insert
from tests.webhooks import meta
from tests.webhooks.builders import Traveller, make_outbound, make_traveller, rows
from tests.webhooks.conftest import post
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver
from tripcast.webhooks.stop_start import decide

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def say(
    http: httpx.Client, receiver: BackgroundReceiver, who: Traveller, *texts: tuple[str, datetime]
) -> None:
    messages = [meta.text_message(who.phone, text, at) for text, at in texts]
    answer = post(http, receiver.url, meta.payload(messages=messages))
    assert answer.status_code == 200, answer.text


def account(engine: Engine, who: Traveller) -> dict:
    [row] = rows(
        engine,
        "SELECT opt_in_status, opted_in_at, opted_out_at FROM whatsapp_accounts WHERE id = %(a)s",
        a=who.account,
    )
    return row


def events(engine: Engine) -> list[tuple]:
    found = rows(
        engine,
        "SELECT intent, outcome, keyword, previous_status, new_status, occurred_at, "
        "cancelled_messages, cancelled_jobs FROM consent_events ORDER BY recorded_at, occurred_at",
    )
    return [tuple(row.values()) for row in found]


def job(
    engine: Engine, who: Traveller, job_type: str = "send_whatsapp", status: str = "pending"
) -> uuid.UUID:
    with engine.begin() as connection:
        return insert(
            connection,
            "scheduled_jobs",
            user_id=who.user,
            job_type=job_type,
            scheduled_for="2026-05-02T09:00Z",
            status=status,
        )


def by_id(engine: Engine, table: str, ids: list[uuid.UUID], columns: str) -> list[dict]:
    found = rows(engine, f"SELECT id, {columns} FROM {table} WHERE id = ANY(%(ids)s)", ids=ids)
    order = {row_id: n for n, row_id in enumerate(ids)}
    return [
        {k: v for k, v in row.items() if k != "id"}
        for row in sorted(found, key=lambda r: order[r["id"]])
    ]


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", "stop"),
        ("stop.", "stop"),
        ("  Stop!! ", "stop"),
        ("Unsubscribe", "unsubscribe"),
        ("PARAR", "parar"),
        ("opt-out", "opt out"),
    ],
)
def test_stop_opts_out_at_once_and_cancels_what_is_queued(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine, text: str, keyword: str
) -> None:
    with engine.begin() as connection:
        ana, bea = make_traveller(connection), make_traveller(connection)
        queued = make_outbound(connection, ana, status="pending")
        in_doubt = make_outbound(connection, ana, status="pending", send_started_at=T0)
        sent = make_outbound(connection, ana, status="sent", wamid=meta.new_wamid())
        others = make_outbound(connection, bea, status="pending")
    whatsapp_job, email_job, bea_job = (
        job(engine, ana),
        job(engine, ana, "send_email"),
        job(engine, bea),
    )
    say(http, receiver, ana, (text, T0))
    report = drain(engine, now=T0 + S)
    assert (report.opted_out, report.cancelled_messages, report.cancelled_jobs) == (1, 1, 1)
    assert account(engine, ana)["opt_in_status"] == "opted_out"
    assert account(engine, ana)["opted_out_at"] == T0  # when they wrote it
    assert account(engine, bea)["opt_in_status"] == "opted_in"
    messages = by_id(
        engine, "whatsapp_messages", [queued, in_doubt, sent, others], "status, failed_reason"
    )
    assert messages == [
        {"status": "failed", "failed_reason": "cancelled: opted out"},
        {"status": "pending", "failed_reason": None},  # in doubt: its receipt decides
        {"status": "sent", "failed_reason": None},
        {"status": "pending", "failed_reason": None},
    ]
    jobs = by_id(engine, "scheduled_jobs", [whatsapp_job, email_job, bea_job], "status, result")
    assert [j["status"] for j in jobs] == ["cancelled", "pending", "pending"]
    assert jobs[0]["result"]["reason"] == "opted_out"
    assert events(engine) == [("stop", "opted_out", keyword, "opted_in", "opted_out", T0, 1, 1)]


def test_ordinary_messages_mentioning_stop_change_nothing(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        queued = make_outbound(connection, ana, status="pending")
    say(http, receiver, ana, ("please stop by the hotel", T0), ("don't stop", T0 + S))
    drain(engine)
    assert account(engine, ana)["opt_in_status"] == "opted_in"
    assert by_id(engine, "whatsapp_messages", [queued], "status") == [{"status": "pending"}]
    assert events(engine) == []


def test_start_opts_back_in_and_only_counts_after_a_stop(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
        new = make_traveller(connection, opt_in_status="pending")
    say(http, receiver, ana, ("STOP", T0))
    drain(engine)
    say(http, receiver, ana, ("Start", T0 + 60 * S))
    say(http, receiver, new, ("START", T0 + 60 * S))
    report = drain(engine)
    assert (report.opted_in, report.consent_unchanged) == (1, 1)
    assert account(engine, ana) == {
        "opt_in_status": "opted_in",
        "opted_in_at": T0 + 60 * S,
        "opted_out_at": T0,  # the history stays readable
    }
    assert account(engine, new)["opt_in_status"] == "pending"  # START is not an opt-in
    assert sorted((e[0], e[1], e[3], e[4]) for e in events(engine)) == [
        ("start", "opted_in", "opted_out", "opted_in"),
        ("start", "unchanged", "pending", "pending"),
        ("stop", "opted_out", "opted_in", "opted_out"),
    ]


def test_keywords_apply_in_the_order_they_were_written(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    with engine.begin() as connection:
        ana, bea = make_traveller(connection), make_traveller(connection)
    # Ana: STOP then START, delivered in one body in reverse order
    say(http, receiver, ana, ("START", T0 + 5 * S), ("STOP", T0))
    # Bea: STOP then START, the START delivered first and on its own
    say(http, receiver, bea, ("START", T0 + 5 * S))
    drain(engine)
    say(http, receiver, bea, ("STOP", T0))  # older than her START: stale
    drain(engine)
    assert account(engine, ana)["opt_in_status"] == "opted_in"
    assert account(engine, bea)["opt_in_status"] == "opted_in"
    outcomes = rows(
        engine, "SELECT user_id, intent, outcome FROM consent_events ORDER BY occurred_at, intent"
    )
    assert sorted(
        (r["user_id"] == ana.user, r["intent"], r["outcome"]) for r in outcomes
    ) == sorted(
        [
            (True, "stop", "opted_out"),
            (True, "start", "opted_in"),
            (False, "start", "unchanged"),
            (False, "stop", "stale"),
        ]
    )


def test_a_repeated_stop_is_one_event(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
    message = meta.text_message(ana.phone, "STOP", T0)
    for entry in ("1", "2"):
        data = meta.payload(messages=[message])
        data["entry"][0]["id"] = entry
        assert post(http, receiver.url, data).status_code == 200
        drain(engine)
    assert len(events(engine)) == 1


@pytest.mark.parametrize(
    ("intent", "status", "at", "last", "expected"),
    [
        ("stop", "opted_in", 10, None, ("opted_out", "opted_out")),
        ("stop", "opted_out", 10, 5, ("unchanged", "opted_out")),
        ("stop", "opted_in", 4, 5, ("stale", "opted_in")),
        ("stop", "opted_in", 5, 5.7, ("opted_out", "opted_out")),  # same second: stopping wins
        ("start", "opted_out", 5, 5.7, ("stale", "opted_out")),
        ("start", "opted_out", 6, 5.7, ("opted_in", "opted_in")),
        ("start", "pending", 6, None, ("unchanged", "pending")),
        ("start", "opted_in", 6, None, ("unchanged", "opted_in")),
    ],
)
def test_consent_decisions(
    intent: str, status: str, at: int, last: float | None, expected: tuple[str, str]
) -> None:
    last_change = None if last is None else T0 + timedelta(seconds=last)
    decision = decide(intent, status=status, at=T0 + at * S, last_change_at=last_change)
    assert (decision.outcome, decision.new_status) == expected
