"""STOP / START from travellers: opt-in status, what is queued for them, consent events.

Each new keyword message is decided in the order the traveller sent them and recorded
in ``consent_events`` with its outcome:

- ``opted_out``: STOP from an account not yet opted out. The account is opted out at the
  message's time, and what is queued for it is cancelled: outbound ``pending`` messages
  never handed to WhatsApp (``send_started_at`` unset; one in doubt is left to be
  reconciled from its receipt) become ``failed`` with ``cancelled: opted out``, and
  pending ``send_whatsapp`` jobs become ``cancelled`` with result reason ``opted_out``
  (email, trip updates and agent runs are not WhatsApp messages and stay).
- ``opted_in``: START from an opted-out account (only then does it count, per
  ``tripcast.rules.consent``). Jobs cancelled by the STOP stay cancelled.
- ``unchanged``: already in that state (a repeated STOP still cancels what is queued).
- ``stale``: written before the account's latest consent change (a delayed delivery); it
  must not undo a later choice. Meta's timestamps are whole seconds: a STOP in the same
  second as the latest change still counts (stopping is always safe), a START does not.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from tripcast.webhooks import sql
from tripcast.webhooks.inbound import KeywordMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsentDecision:
    outcome: str  # opted_out | opted_in | unchanged | stale
    new_status: str


@dataclass
class ConsentOutcome:
    opted_out: int = 0
    opted_in: int = 0
    unchanged: int = 0
    stale: int = 0
    cancelled_messages: int = 0
    cancelled_jobs: int = 0


def decide(
    intent: str, *, status: str, at: datetime, last_change_at: datetime | None
) -> ConsentDecision:
    """What a keyword does to an account in ``status`` whose consent last changed then."""
    if last_change_at is not None:
        last_second = last_change_at.replace(microsecond=0)
        if at < last_second or (intent == "start" and at <= last_second):
            return ConsentDecision("stale", status)
    if intent == "stop":
        return ConsentDecision("unchanged" if status == "opted_out" else "opted_out", "opted_out")
    if status == "opted_out":
        return ConsentDecision("opted_in", "opted_in")
    return ConsentDecision("unchanged", status)


def apply_consent(
    connection: Connection, keywords: Sequence[KeywordMessage], *, now: datetime
) -> ConsentOutcome:
    """Decide and apply each keyword (accounts already locked by the caller)."""
    outcome = ConsentOutcome()
    for keyword in keywords:
        _apply_one(connection, keyword, outcome, now=now)
    return outcome


def _apply_one(
    connection: Connection, keyword: KeywordMessage, outcome: ConsentOutcome, *, now: datetime
) -> None:
    ids = {"account_id": keyword.account_id, "user_id": keyword.user_id, "wamid": keyword.wamid}
    status, last_change_at = connection.exec_driver_sql(sql.CONSENT_ACCOUNT, ids).one()
    decision = decide(keyword.intent, status=status, at=keyword.at, last_change_at=last_change_at)
    messages = jobs = 0
    if decision.outcome == "opted_out":
        connection.exec_driver_sql(sql.OPT_OUT, {**ids, "at": keyword.at})
    elif decision.outcome == "opted_in":
        connection.exec_driver_sql(sql.OPT_IN, {**ids, "at": keyword.at})
    if keyword.intent == "stop" and decision.outcome != "stale":
        messages = connection.exec_driver_sql(sql.CANCEL_MESSAGES, {**ids, "now": now}).rowcount
        jobs = connection.exec_driver_sql(sql.CANCEL_JOBS, ids).rowcount
    connection.exec_driver_sql(
        sql.RECORD_CONSENT,
        {
            **ids,
            "intent": keyword.intent,
            "outcome": decision.outcome,
            "keyword": keyword.keyword,
            "previous": status,
            "new": decision.new_status,
            "at": keyword.at,
            "messages": messages,
            "jobs": jobs,
        },
    )
    setattr(outcome, decision.outcome, getattr(outcome, decision.outcome) + 1)
    outcome.cancelled_messages += messages
    outcome.cancelled_jobs += jobs
    log.info("consent %s (%s): %s", keyword.intent, decision.outcome, keyword.wamid)
