"""``watch`` reads what a notification names by id: the payload identifies nobody, and
any role may NOTIFY on the channel, so a stray payload is ignored, never fatal."""

from __future__ import annotations

import io
import threading
import uuid

import pytest
from sqlalchemy.engine import Engine

from tests.webhooks.builders import make_outbound, make_traveller
from tripcast.webhooks.watch import CHANNEL, watch

pytestmark = pytest.mark.integration

STRAY = ["not json", "[]", '"text"', '{"id": "x"}', '{"op": "UPDATE"}']


def test_watch_fetches_each_announced_row_and_ignores_stray_notifications(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        ana, bea = make_traveller(connection), make_traveller(connection)
        hers = make_outbound(connection, ana, content="Your gate is B12")
        theirs = make_outbound(connection, bea, content="Someone else's")
    listening = threading.Event()
    out = io.StringIO()
    printed: list[int] = []
    thread = threading.Thread(
        target=lambda: printed.append(
            watch(
                engine,
                user_id=ana.user,
                out=out,
                max_events=1,
                timeout=20,
                on_listening=listening.set,
            )
        )
    )
    thread.start()
    assert listening.wait(10), "the watcher never said it was listening"
    with engine.begin() as connection:
        for payload in [*STRAY, f'{{"id": "{uuid.uuid4()}", "status": "read"}}']:
            connection.exec_driver_sql(
                "SELECT pg_notify(%(c)s, %(p)s)", {"c": CHANNEL, "p": payload}
            )
        for message in (theirs, hers):
            connection.exec_driver_sql(
                "UPDATE whatsapp_messages SET status = 'delivered' WHERE id = %(m)s", {"m": message}
            )
    thread.join(20)
    assert printed == [1]
    (line,) = out.getvalue().splitlines()
    assert "delivered" in line and str(hers)[:8] in line and '"Your gate is B12"' in line
