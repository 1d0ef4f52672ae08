"""Error 131050 ("this recipient has chosen to stop receiving marketing messages on
WhatsApp from your business") as Meta's consent signal.

Whether it comes back on the send (dispatch) or in a failed status webhook (the ingest),
the traveller's ``notification_preferences.marketing`` becomes false and a consent event
with source ``error_131050`` records it, once per message. A refusal older than the
account's latest marketing signal (a ``user_preferences`` resume that came after it) is
recorded as ``stale`` and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

MARKETING_STOPPED = 131050

RECORD_REFUSALS = """
WITH hit AS (
  SELECT m.id, m.user_id, m.whatsapp_account_id, coalesce(m.failed_at, %(now)s) AS at,
    coalesce(p.marketing, false) AS marketing,
    EXISTS (SELECT 1 FROM public.consent_events e
            WHERE e.whatsapp_account_id = m.whatsapp_account_id AND e.source <> 'keyword'
              AND e.occurred_at > coalesce(m.failed_at, %(now)s)) AS stale
  FROM public.whatsapp_messages m
  LEFT JOIN public.notification_preferences p ON p.user_id = m.user_id
  WHERE (m.id = ANY(%(ids)s) OR m.external_id = ANY(%(wamids)s))
    AND m.direction = 'outbound' AND m.error_code = 131050
    AND m.whatsapp_account_id IS NOT NULL
), ev AS (
  INSERT INTO public.consent_events
    (user_id, whatsapp_account_id, intent, outcome, keyword, previous_status, new_status,
     inbound_external_id, occurred_at, source)
  SELECT h.user_id, h.whatsapp_account_id, 'stop',
    CASE WHEN h.stale THEN 'stale' WHEN h.marketing THEN 'opted_out' ELSE 'unchanged' END,
    '131050', CASE WHEN h.marketing THEN 'marketing_on' ELSE 'marketing_off' END,
    CASE WHEN h.stale AND h.marketing THEN 'marketing_on' ELSE 'marketing_off' END,
    '131050:' || h.id, h.at, 'error_131050'
  FROM hit h
  ON CONFLICT (inbound_external_id) DO NOTHING
  RETURNING user_id, outcome
)
UPDATE public.notification_preferences p SET marketing = false, updated_at = now()
FROM ev WHERE p.user_id = ev.user_id AND ev.outcome = 'opted_out'
RETURNING p.user_id
"""


def record_marketing_refusals(
    connection: Connection,
    *,
    message_ids: Sequence[uuid.UUID] = (),
    wamids: Sequence[str] = (),
    now: datetime,
) -> int:
    """Apply the 131050 refusals among these messages; how many travellers it stopped."""
    if not message_ids and not wamids:
        return 0
    params = {"ids": list(message_ids), "wamids": list(wamids), "now": now}
    return len(connection.exec_driver_sql(RECORD_REFUSALS, params).all())
