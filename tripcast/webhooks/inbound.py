"""Applying inbound traveller messages set-based.

Each becomes a ``direction = 'inbound'`` message of the account whose ``phone_number``
equals the sender, or, when Meta gave no number, whose ``bsuid`` equals the sender's
business-scoped user ID (status ``delivered``: it reached us; ``delivered_at`` = when they
sent it), deduplicated on its wamid; the account's ``last_inbound_at`` (the 24-hour
window) only moves forward. Messages from numbers with no account are kept in
``webhook_unknown_senders``. New STOP / START messages are returned for ``stop_start``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from psycopg.types.json import Jsonb
from sqlalchemy.engine import Connection

from tripcast.models.engine import copy_rows
from tripcast.webhooks.extract import Inbound
from tripcast.whatsapp.phone import mask_phone

log = logging.getLogger(__name__)

TEMP_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS tc_inbound (
  seq integer PRIMARY KEY, wamid text NOT NULL, sender text, at timestamptz NOT NULL,
  wa_type text NOT NULL, message_type text NOT NULL, content text NOT NULL, intent text,
  keyword text, metadata jsonb NOT NULL, raw jsonb NOT NULL, phone_number_id text,
  profile_name text, delivery_id uuid, account_id uuid, user_id uuid,
  is_new boolean NOT NULL DEFAULT false, sender_user_id text
) ON COMMIT DELETE ROWS;
TRUNCATE tc_inbound
"""
COPY_COLUMNS = (
    "seq, wamid, sender, at, wa_type, message_type, content, intent, keyword, metadata, raw, "
    "phone_number_id, profile_name, delivery_id, sender_user_id"
)

MATCH_ACCOUNTS = """
UPDATE tc_inbound i SET account_id = a.id, user_id = a.user_id
FROM public.whatsapp_accounts a WHERE a.phone_number = i.sender;

UPDATE tc_inbound i SET account_id = a.id, user_id = a.user_id
FROM public.whatsapp_accounts a
WHERE i.account_id IS NULL AND i.sender IS NULL AND a.bsuid = i.sender_user_id
"""

# Accounts are locked in id order before any of them is written: concurrent ingesters
# then queue instead of deadlocking.
LOCK_ACCOUNTS = """
SELECT a.id FROM public.whatsapp_accounts a
WHERE a.id IN (SELECT account_id FROM tc_inbound)
ORDER BY a.id FOR UPDATE OF a
"""

INSERT_MESSAGES = """
WITH ins AS (
  INSERT INTO public.whatsapp_messages
    (user_id, whatsapp_account_id, direction, message_type, content, external_id, status,
     delivered_at, metadata, sender_phone_number_id)
  SELECT DISTINCT ON (wamid) user_id, account_id, 'inbound', message_type, content, wamid,
    'delivered', at, metadata, phone_number_id
  FROM tc_inbound WHERE account_id IS NOT NULL ORDER BY wamid, seq
  ON CONFLICT (external_id) DO NOTHING
  RETURNING external_id
)
UPDATE tc_inbound i SET is_new = true FROM ins
WHERE i.wamid = ins.external_id
  AND i.seq = (SELECT min(j.seq) FROM tc_inbound j WHERE j.wamid = i.wamid)
"""

REFRESH_WINDOW = """
UPDATE public.whatsapp_accounts a SET last_inbound_at = g.at, updated_at = now()
FROM (SELECT account_id, max(at) AS at FROM tc_inbound WHERE account_id IS NOT NULL
      GROUP BY account_id) g
WHERE a.id = g.account_id AND (a.last_inbound_at IS NULL OR a.last_inbound_at < g.at)
"""

KEEP_UNKNOWN = """
INSERT INTO public.webhook_unknown_senders
  (sender, sender_user_id, external_id, message_type, content, intent, profile_name,
   phone_number_id, sent_at, delivery_id, payload)
SELECT DISTINCT ON (wamid) sender, sender_user_id, wamid, wa_type, content, intent,
  profile_name, phone_number_id, at, delivery_id, raw
FROM tc_inbound WHERE account_id IS NULL ORDER BY wamid, seq
ON CONFLICT (external_id) DO NOTHING
RETURNING coalesce(sender, sender_user_id)
"""

COUNTS = """
SELECT count(*) FILTER (WHERE is_new),
       count(*) FILTER (WHERE account_id IS NOT NULL AND NOT is_new)
FROM tc_inbound
"""

CONSENT_CANDIDATES = """
SELECT account_id, user_id, intent, keyword, at, wamid FROM tc_inbound
WHERE is_new AND intent IS NOT NULL ORDER BY account_id, at, seq
"""


@dataclass(frozen=True)
class KeywordMessage:
    """A new inbound STOP / START from a known traveller."""

    account_id: uuid.UUID
    user_id: uuid.UUID
    intent: str
    keyword: str
    at: datetime
    wamid: str


@dataclass
class InboundOutcome:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    unknown_senders: int = 0
    keywords: list[KeywordMessage] = field(default_factory=list)


def apply_inbound(connection: Connection, messages: Sequence[Inbound]) -> InboundOutcome:
    """Store one batch of inbound messages in the caller's transaction."""
    outcome = InboundOutcome(received=len(messages))
    if not messages:
        return outcome
    connection.exec_driver_sql(TEMP_TABLE)
    _copy(connection, messages)
    connection.exec_driver_sql(MATCH_ACCOUNTS)
    connection.exec_driver_sql(LOCK_ACCOUNTS).all()
    connection.exec_driver_sql(INSERT_MESSAGES)
    connection.exec_driver_sql(REFRESH_WINDOW)
    unknown = [row[0] for row in connection.exec_driver_sql(KEEP_UNKNOWN)]
    for sender in unknown:
        shown = mask_phone(sender) if sender.isdigit() else sender  # a BSUID is no number
        log.info("inbound message from unknown sender %s kept for review", shown)
    outcome.unknown_senders = len(unknown)
    outcome.stored, outcome.duplicates = connection.exec_driver_sql(COUNTS).one()
    rows = connection.exec_driver_sql(CONSENT_CANDIDATES)
    outcome.keywords = [KeywordMessage(*row) for row in rows]
    return outcome


def _copy(connection: Connection, messages: Sequence[Inbound]) -> None:
    rows = (
        (
            seq, m.wamid, m.sender, m.at, m.wa_type, m.message_type, m.content,
            m.intent, m.keyword, Jsonb(m.metadata), Jsonb(m.raw), m.phone_number_id,
            m.profile_name, m.delivery_id, m.sender_user_id,
        )
        for seq, m in enumerate(messages)
    )  # fmt: skip
    copy_rows(connection, "tc_inbound", COPY_COLUMNS, rows)
