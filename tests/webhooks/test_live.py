"""Live paths: the ingest loop wakes on the receiver's nudge; ``watch`` follows a user."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.support.net import wait_until
from tests.webhooks import meta
from tests.webhooks.builders import make_outbound, make_traveller, scalar, store_delivery
from tests.webhooks.conftest import post
from tripcast.webhooks.follow import follow
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver
from tripcast.webhooks.watch import MessageEvent, format_event, watch

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def listening(engine: Engine, channel: str) -> bool:
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %(d)s AND query = %(q)s"
    return bool(scalar(engine, query, d=engine.url.database, q=f"LISTEN {channel}"))


@pytest.fixture
def follower(engine: Engine) -> Iterator[Callable[..., None]]:
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(**options: float) -> None:
        thread = threading.Thread(target=follow, args=(engine,), kwargs={"stop": stop, **options})
        thread.start()
        threads.append(thread)
        wait_until(lambda: listening(engine, "tripcast_webhook_deliveries"), 10)

    yield start
    stop.set()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()  # stop is honoured promptly


def test_the_receivers_nudge_wakes_the_ingest(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine, follower: Callable
) -> None:
    follower(backstop_seconds=60.0)  # only the nudge can explain a quick apply
    wamid = meta.new_wamid()
    with engine.begin() as connection:
        make_outbound(connection, make_traveller(connection), wamid=wamid)
    answer = post(http, receiver.url, meta.payload(statuses=[meta.status(wamid, "read", T0)]))
    assert answer.status_code == 200
    waited = wait_until(lambda: scalar(engine, "SELECT status FROM whatsapp_messages") == "read", 5)
    assert waited < 3


def test_the_backstop_applies_deliveries_that_came_without_a_nudge(
    engine: Engine, follower: Callable
) -> None:
    follower(backstop_seconds=0.2)
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        store_delivery(
            connection, meta.payload(messages=[meta.text_message(traveller.phone, "hi", T0)])
        )
    wait_until(lambda: scalar(engine, "SELECT count(*) FROM whatsapp_messages") == 1, 5)


def run_watch(
    engine: Engine, user: object, **options: object
) -> tuple[threading.Thread, io.StringIO]:
    out = io.StringIO()
    thread = threading.Thread(
        target=watch, args=(engine,), kwargs={"user_id": user, "out": out, **options}
    )
    thread.start()
    wait_until(lambda: listening(engine, "tripcast_whatsapp_messages"), 10)
    return thread, out


def test_watch_prints_one_users_message_updates_live(engine: Engine) -> None:
    wamid = meta.new_wamid()
    with engine.begin() as connection:
        ana, bea = make_traveller(connection, phone="351912345678"), make_traveller(connection)
        message = make_outbound(
            connection, ana, wamid=wamid, content="Your trip\nto Lisbon starts tomorrow"
        )
    thread, out = run_watch(engine, ana.user, max_events=3, timeout=10)
    with engine.begin() as connection:
        make_outbound(connection, bea)  # someone else's: not shown
        connection.exec_driver_sql(
            "UPDATE whatsapp_messages SET status = 'delivered', updated_at = %(t)s "
            "WHERE id = %(id)s",
            {"id": message, "t": T0},
        )
        connection.exec_driver_sql(
            "UPDATE whatsapp_messages SET status = 'failed', failed_reason = '131026: Message "
            "undeliverable', updated_at = %(t)s WHERE id = %(id)s",
            {"id": message, "t": T0},
        )
        store_delivery(
            connection, meta.payload(messages=[meta.text_message(ana.phone, "Thanks!", T0)])
        )
    drain(engine)
    thread.join(10)
    lines = out.getvalue().splitlines()
    short = str(message)[:8]
    at = "2026-05-01 09:00:00"
    assert lines[:2] == [
        f'{at}  outbound  delivered  3519*****678  {short}  "Your trip to Lisbon starts tomorrow"',
        f'{at}  outbound  failed     3519*****678  {short}  "131026: Message undeliverable"',
    ]
    assert lines[2].split()[2:4] == ["inbound", "delivered"]
    assert lines[2].endswith('"Thanks!"')
    assert len(lines) == 3
    assert "351912345678" not in out.getvalue()


def test_watch_stops_at_its_timeout_without_events(engine: Engine) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection)
    started = time.monotonic()
    assert watch(engine, user_id=ana.user, out=io.StringIO(), timeout=0.5) == 0
    assert 0.4 < time.monotonic() - started < 3


def test_format_event_shortens_long_content() -> None:
    event = MessageEvent(
        "UPDATE", "0123456789abcdef", "inbound", "delivered", None, None, "x" * 100
    )
    line = format_event(event)
    assert line.startswith("-  inbound   delivered  -  01234567  ")
    assert line.endswith('x…"') and len(line.split("  ")[-1]) == 62
