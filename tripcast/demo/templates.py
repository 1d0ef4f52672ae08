"""The demo's template catalog: synced from the fake at the start, and one template
paused mid-day and reinstated, so its messages are seen waiting, then leaving."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from tripcast.whatsapp.fake import FakeCloudApi, FakeTemplate

# The world's rules' templates with their body parameter counts (all en_US).
DEMO_TEMPLATES = {
    "trip_reminder": FakeTemplate(body_parameters=2, languages=["en_US"]),
    "budget_alert": FakeTemplate(body_parameters=2, languages=["en_US"]),
    "booking_nudge": FakeTemplate(body_parameters=1, languages=["en_US"]),
    "daily_digest": FakeTemplate(body_parameters=0, languages=["en_US"]),
    # The marketing campaign of tripcast.demo.senders.
    "weekend_offer": FakeTemplate(body_parameters=0, languages=["en_US"], category="MARKETING"),
}
PAUSED = "trip_reminder"
# Paused before the 06:00 sweep, reinstated before the 12:00 one (hours every step hits).
PAUSE_FROM, PAUSE_UNTIL = 6, 12

WAITING = """
SELECT id FROM public.whatsapp_messages
WHERE status = 'pending' AND direction = 'outbound' AND next_attempt_at > %(now)s
  AND metadata -> 'template' ->> 'name' = %(name)s
"""
STATUS_OF = """
SELECT status, count(*) FROM public.whatsapp_messages WHERE id = ANY(%(ids)s::uuid[])
GROUP BY 1
"""
CATALOG_STATUS = """
SELECT status FROM public.whatsapp_templates WHERE name = %(name)s AND language = 'en_US'
"""


def sync_catalog(engine: Engine) -> str:
    """``tripcast templates sync`` against the fake; its one-line summary."""
    from tripcast.settings import get_settings
    from tripcast.templates.sync import sync_from_settings

    return asyncio.run(sync_from_settings(engine, get_settings())).summary()


@dataclass
class TemplatePause:
    """Pauses ``PAUSED`` for part of the day and remembers whose messages waited."""

    waited: set[uuid.UUID] = field(default_factory=set)

    def before_sweep(self, hour: int, fake: FakeCloudApi, engine: Engine) -> str | None:
        """Pause or reinstate at the set hours (the webhook applied before the sweep)."""
        wanted = {PAUSE_FROM: "PAUSED", PAUSE_UNTIL: "APPROVED"}.get(hour)
        if wanted is None:
            return None
        fake.set_template(
            PAUSED, status=wanted, reason="LOW_QUALITY" if wanted == "PAUSED" else None
        )
        _wait_for_catalog(engine, wanted)
        return f"template {PAUSED} {'paused by Meta' if wanted == 'PAUSED' else 'reinstated'}"

    def after_sweep(self, hour: int, engine: Engine, now: datetime) -> None:
        if not PAUSE_FROM <= hour < PAUSE_UNTIL:
            return  # pair spacing defers messages too; only the pause is counted
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(WAITING, {"now": now, "name": PAUSED})
            self.waited.update(row[0] for row in rows)

    def outcome(self, engine: Engine) -> Counter[str]:
        """How the messages that waited ended: ``waited`` and then their statuses."""
        found: Counter[str] = Counter({"waited": len(self.waited)})
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(STATUS_OF, {"ids": list(self.waited)})
            found.update({f"then {status}": count for status, count in rows})
        return found


def _wait_for_catalog(engine: Engine, status: str, timeout: float = 20.0) -> None:
    """The fake's webhook reaches the receiver and the ingest beside it; wait for it."""
    from tripcast.webhooks.ingest import drain

    deadline = time.monotonic() + timeout
    while True:
        drain(engine)
        with engine.connect() as connection:
            if connection.exec_driver_sql(CATALOG_STATUS, {"name": PAUSED}).scalar() == status:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"template {PAUSED} not {status} in the catalog after {timeout}s")
        time.sleep(0.05)
