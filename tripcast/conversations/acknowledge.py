"""Read receipts for the travellers an automation answers inside the 24-hour window.

When tripcast answers a traveller (an outbound message queued after their latest inbound
message, while that message is less than 24 hours old), the traveller's latest inbound
message is marked read, which also marks the chat before it read, as a person replying
would. While the answer is still waiting to leave, the typing indicator is shown with
the receipt (optional): it lasts until the answer arrives, 25 seconds at most. Each
inbound message is acknowledged once; the outcome is kept in its ``metadata``
(``read_marked_at``, ``typing_shown``, or ``read_mark_failed`` with Meta's reason) and
``read_at``. A refusal of that message is kept and not retried; a network failure, throttling
or an account-wide refusal (the token, the number) leaves it for the next run.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy.engine import Engine, Row

from tripcast.settings import Settings
from tripcast.whatsapp.api_errors import WhatsAppError
from tripcast.whatsapp.client import WhatsAppClient

log = logging.getLogger(__name__)

# Answered = an outbound message queued (created) after the inbound row was stored, not
# failed, and either sent or due now (a pending row without next_attempt_at is due).
# Both created_at are our clock, so a webhook timestamp from a skewed clock cannot
# misorder them. ``created_at`` of the inbound row also bounds the scan through
# idx_whatsapp_messages_created_at (48 h: slack for late ingest); the 24 hours
# themselves are counted from when the traveller wrote.
ANSWERED = """
WITH latest AS (
  SELECT DISTINCT ON (i.whatsapp_account_id) i.id, i.external_id, i.whatsapp_account_id,
         i.created_at, i.metadata
  FROM public.whatsapp_messages i
  WHERE i.direction = 'inbound' AND i.external_id IS NOT NULL
    AND i.created_at > %(now)s - interval '48 hours'
    AND i.delivered_at > %(now)s - interval '24 hours'
  ORDER BY i.whatsapp_account_id, i.delivered_at DESC, i.id
)
SELECT l.id, l.external_id, bool_or(o.status = 'pending') AS answer_pending
FROM latest l JOIN public.whatsapp_messages o
  ON o.whatsapp_account_id = l.whatsapp_account_id AND o.direction = 'outbound'
 AND o.created_at >= l.created_at AND o.status <> 'failed'
 AND (o.status <> 'pending' OR o.next_attempt_at IS NULL OR o.next_attempt_at <= %(now)s)
WHERE NOT (l.metadata ?| array['read_marked_at', 'read_mark_failed'])
GROUP BY l.id, l.external_id
ORDER BY l.id
LIMIT %(limit)s
"""
# One acknowledger at a time: two (the sweep's and a follower's, or two sweeps) would
# both read a row not yet recorded and both send its receipt. The one that finds the lock
# taken sends nothing this round; the holder, the next wake or the next sweep covers it.
# Held for the transaction, so a crash or an error releases it.
ACKNOWLEDGER_LOCK = 0x74726970_636B  # an arbitrary key of tripcast's own
TRY_LOCK = "SELECT pg_try_advisory_xact_lock(%(key)s)"
RECORD = """
UPDATE public.whatsapp_messages
SET metadata = coalesce(metadata, '{}'::jsonb) || %(note)s, updated_at = now(),
    read_at = CASE WHEN %(read)s THEN coalesce(read_at, %(now)s) ELSE read_at END
WHERE id = %(id)s
"""


@dataclass
class AcknowledgeReport:
    marked_read: int = 0
    typing_shown: int = 0
    refused: int = 0
    postponed: int = 0  # no answer from the Cloud API: tried again next run
    busy: bool = False  # another acknowledger was at work: nothing read, nothing sent
    refusals: list[str] = field(default_factory=list)


async def acknowledge_answers(
    engine: Engine,
    client: WhatsAppClient,
    *,
    now: datetime,
    typing: bool = True,
    limit: int = 500,
) -> AcknowledgeReport:
    """Mark read the latest inbound message of each traveller being answered."""
    report = AcknowledgeReport()
    with engine.connect() as lock:  # the transaction holds the lock; leaving releases it
        if not lock.exec_driver_sql(TRY_LOCK, {"key": ACKNOWLEDGER_LOCK}).scalar():
            report.busy = True
            return report
        found = lock.exec_driver_sql(ANSWERED, {"now": now, "limit": limit}).all()
        await _send_receipts(engine, client, found, report=report, now=now, typing=typing)
    return report


async def _send_receipts(
    engine: Engine, client: WhatsAppClient, found: Sequence[Row[Any]], *,
    report: AcknowledgeReport, now: datetime, typing: bool,
) -> None:  # fmt: skip
    for message_id, wamid, answer_pending in found:
        show = typing and bool(answer_pending)
        try:
            await client.mark_read(wamid, typing=show)
        except WhatsAppError as error:
            if error.fatal:  # the token or the number: no receipt can go now
                report.postponed += len(found) - report.marked_read - report.refused
                report.refusals.append(str(error))
                break
            if error.transient:
                report.postponed += 1
                log.warning("read receipt for %s not sent, retried next run: %s", message_id, error)
                continue
            report.refused += 1
            report.refusals.append(str(error))
            _record(engine, message_id, {"read_mark_failed": str(error)[:500]}, now=now)
            continue
        report.marked_read += 1
        report.typing_shown += show
        _record(engine, message_id, {"read_marked_at": now.isoformat(), "typing_shown": show},
                now=now, read=True)  # fmt: skip


def _record(
    engine: Engine, message_id: uuid.UUID, note: dict[str, object], *, now: datetime,
    read: bool = False,
) -> None:  # fmt: skip
    with engine.begin() as connection:
        connection.exec_driver_sql(
            RECORD, {"id": message_id, "note": Jsonb(note), "now": now, "read": read}
        )


def acknowledge_configured(
    engine: Engine, *, now: datetime, settings: Settings
) -> AcknowledgeReport | None:
    """``acknowledge_answers`` with the configured client; None without WhatsApp settings."""
    if settings.whatsapp_phone_number_id is None or settings.whatsapp_access_token is None:
        return None

    async def run() -> AcknowledgeReport:
        async with WhatsAppClient.from_settings(settings) as client:
            return await acknowledge_answers(
                engine, client, now=now, typing=settings.whatsapp_typing_indicator
            )

    return asyncio.run(run())
