"""The demo's two business numbers: a US number (the default) and a Portuguese one.

Travellers with Portuguese numbers are routed to the PT number, everyone else to the
US one. A marketing campaign goes out in the afternoon from both (the first sweep from
14:00, clear of noon's reinstated reminders); before the 18:00 sweep the fake flags the
PT number (a signed ``phone_number_quality_update``, FLAGGED: quality RED,
through the receiver and the ingest) and a second wave is queued. Its PT share waits,
held, while the US number keeps sending its share.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection, Engine

from tripcast.models.senders import WhatsAppSenderCreate
from tripcast.senders.registry import add_sender, load_senders
from tripcast.whatsapp.fake import FakeCloudApi

PT_NUMBER = "100000000000351"
PT_DISPLAY = "+351 21 000 0001"
US_DISPLAY = "+1 555 000 1111"  # the fake's own number
CAMPAIGN = "weekend_offer"  # a MARKETING template of the demo's catalog
# The first wave at the first sweep from WAVE_AT; the flag and the second wave at FLAG_AT,
# an hour every step of the demo hits.
WAVE_AT, FLAG_AT = 14, 18
FIRST, SECOND = "first wave", "second wave, PT RED"

# Opted-in travellers outside the US (Meta does not deliver marketing templates to US
# numbers), who now accept marketing, each queued one message per wave.
RECIPIENTS = """
SELECT a.user_id, a.id FROM public.whatsapp_accounts a
WHERE a.opt_in_status = 'opted_in' AND a.is_verified AND a.phone_number NOT LIKE '1%%'
ORDER BY a.phone_number
"""
CONSENT = """
UPDATE public.notification_preferences SET marketing = true
WHERE user_id = ANY(%(users)s::uuid[])
"""
QUEUE = """
INSERT INTO public.whatsapp_messages
  (user_id, whatsapp_account_id, direction, message_type, content, metadata)
VALUES (%(user)s, %(account)s, 'outbound', 'template', 'This weekend: 20%% off in Porto',
        %(metadata)s::jsonb)
RETURNING id
"""
WAVE_OUTCOME = """
SELECT CASE WHEN m.sent_at IS NOT NULL THEN 'sent'
            WHEN m.status = 'pending' THEN 'held' ELSE 'not sent' END,
       coalesce(m.sender_phone_number_id, ''), a.phone_number LIKE '351%%', count(*)
FROM public.whatsapp_messages m JOIN public.whatsapp_accounts a ON a.id = m.whatsapp_account_id
WHERE m.id = ANY(%(ids)s::uuid[])
GROUP BY 1, 2, 3
"""


def add_numbers(engine: Engine, *, default: str) -> None:
    """The US number (the settings' default) and the PT one, each with its market."""
    with engine.begin() as connection:
        for number, display, market in ((default, US_DISPLAY, "US"), (PT_NUMBER, PT_DISPLAY, "PT")):
            sender = WhatsAppSenderCreate(
                phone_number_id=number, display_number=display, markets=[market]
            )
            add_sender(connection, sender)


def _queue_wave(connection: Connection) -> list[uuid.UUID]:
    recipients = connection.exec_driver_sql(RECIPIENTS).all()
    connection.exec_driver_sql(CONSENT, {"users": [user for user, _ in recipients]})
    template = {"name": CAMPAIGN, "language": {"code": "en_US"}}
    metadata = json.dumps({"template": template, "category": "marketing"})
    rows = [
        {"user": user, "account": account, "metadata": metadata} for user, account in recipients
    ]
    return [connection.exec_driver_sql(QUEUE, row).scalar_one() for row in rows]


@dataclass
class SenderShow:
    """Queues the two waves, flags the PT number, and reads how each wave went out."""

    default: str
    waves: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    cooling: bool = False  # a wave went at the last sweep

    def before_sweep(self, hour: int, fake: FakeCloudApi, engine: Engine) -> str | None:
        """Queue a wave (and flag the PT number first) when one is due. The demo's hours
        pass in seconds, and Meta's pair rate limit (one message per traveller every few
        seconds) is in real time: the sweeps before and after a wave's are kept that far
        from it, or the campaign and the travellers' other messages would meet it."""
        first_due = WAVE_AT <= hour < FLAG_AT and FIRST not in self.waves
        if self.cooling or first_due or hour == FLAG_AT:
            time.sleep(fake.state()["config"].get("pair_rate_window_seconds") or 0)
        self.cooling = False
        if not first_due and hour != FLAG_AT:
            return None
        said = ""
        if hour == FLAG_AT:
            fake.sender_event(
                "quality", display_phone_number=PT_DISPLAY, event="FLAGGED", current_limit="TIER_2K"
            )
            _wait_for_rating(engine, "RED")
            said = f"number {PT_DISPLAY} flagged by Meta (quality RED); "
        wave = FIRST if first_due else SECOND
        with engine.begin() as connection:
            self.waves[wave] = _queue_wave(connection)
        self.cooling = True
        return said + f"marketing campaign ({wave}) queued for {len(self.waves[wave])} travellers"

    def outcome(self, engine: Engine) -> list[tuple[str, int | str]]:
        rows: list[tuple[str, int | str]] = []
        names = {self.default: f"US {US_DISPLAY}", PT_NUMBER: f"PT {PT_DISPLAY}"}
        with engine.connect() as connection:
            for wave in (FIRST, SECOND):
                ids = {"ids": self.waves.get(wave, [])}
                counts: Counter[str] = Counter()
                for fate, number, portuguese, count in connection.exec_driver_sql(
                    WAVE_OUTCOME, ids
                ):
                    counts[_how(fate, number, portuguese, names)] += count
                rows += [(f"{wave}: {how}", n) for how, n in sorted(counts.items())]
            pt = load_senders(connection).get(PT_NUMBER)
        if pt is not None:
            rows.append((f"PT {PT_DISPLAY} now", f"quality {pt.quality_rating}, {pt.status}"))
        return rows


def _how(fate: str, number: str, portuguese: bool, names: dict[str, str]) -> str:
    if fate == "sent":
        return f"sent from {names.get(number, number)}"
    if fate == "held":
        return f"held, {'PT' if portuguese else 'other'} travellers"
    return "not sent (opted out or undeliverable)"


def _wait_for_rating(engine: Engine, rating: str, timeout: float = 20.0) -> None:
    """The fake's webhook reaches the receiver and the ingest beside it; wait for it."""
    from tripcast.webhooks.ingest import drain

    deadline = time.monotonic() + timeout
    while True:
        drain(engine)
        with engine.connect() as connection:
            sender = load_senders(connection).get(PT_NUMBER)
        if sender is not None and sender.quality_rating == rating:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"sender {PT_NUMBER} not {rating} after {timeout}s")
        time.sleep(0.05)
