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
from tripcast.webhooks import sql
from tripcast.webhooks.extract import Inbound
from tripcast.whatsapp.phone import mask_phone

log = logging.getLogger(__name__)


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
    connection.exec_driver_sql(sql.INBOUND_TEMP_TABLE)
    _copy(connection, messages)
    connection.exec_driver_sql(sql.MATCH_INBOUND_ACCOUNTS)
    connection.exec_driver_sql(sql.LOCK_INBOUND_ACCOUNTS).all()
    connection.exec_driver_sql(sql.INSERT_INBOUND_MESSAGES)
    connection.exec_driver_sql(sql.REFRESH_WINDOW)
    unknown = [row[0] for row in connection.exec_driver_sql(sql.KEEP_UNKNOWN_SENDERS)]
    for sender in unknown:
        shown = mask_phone(sender) if sender.isdigit() else sender  # a BSUID is no number
        log.info("inbound message from unknown sender %s kept for review", shown)
    outcome.unknown_senders = len(unknown)
    outcome.stored, outcome.duplicates = connection.exec_driver_sql(sql.INBOUND_COUNTS).one()
    rows = connection.exec_driver_sql(sql.CONSENT_CANDIDATES)
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
    copy_rows(connection, "tc_inbound", sql.INBOUND_COLUMNS, rows)
