"""Handing a queued message to a running follower instead of dispatching it in-line.

A follower's LISTEN connection carries ``application_name = FOLLOWER_APP_NAME``, so
anyone can see from ``pg_stat_activity`` whether one is listening on this database. When
one is, a caller that queued a message only waits for the row to leave ``pending``
(the follower sends it within about a second); otherwise it dispatches itself.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy.engine import Engine

FOLLOWER_APP_NAME = "tripcast-dispatch-follower"

FOLLOWER_LISTENING = """
SELECT EXISTS (SELECT FROM pg_stat_activity
               WHERE application_name = %(name)s AND datname = current_database())
"""

MESSAGE_STATE = """
SELECT status, external_id, failed_reason FROM public.whatsapp_messages WHERE id = %(id)s
"""


def follower_listening(engine: Engine) -> bool:
    with engine.connect() as connection:
        found = connection.exec_driver_sql(FOLLOWER_LISTENING, {"name": FOLLOWER_APP_NAME})
        return bool(found.scalar_one())


def wait_until_settled(
    engine: Engine, message_id: uuid.UUID, *, timeout: float, interval: float = 0.05
) -> dict[str, Any] | None:
    """The message's state once it left ``pending``; None if it is still pending after
    ``timeout`` seconds (deferred, or no follower took it)."""
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as connection:
            row = connection.exec_driver_sql(MESSAGE_STATE, {"id": message_id}).mappings().one()
        if row["status"] != "pending":
            return dict(row)
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
