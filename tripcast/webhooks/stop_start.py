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

from tripcast.webhooks.inbound import KeywordMessage

log = logging.getLogger(__name__)

ACCOUNT = """
SELECT a.opt_in_status,
  greatest(a.opted_in_at, a.opted_out_at,
           (SELECT max(e.occurred_at) FROM public.consent_events e
            WHERE e.whatsapp_account_id = a.id AND e.source = 'keyword')) AS last_change_at
FROM public.whatsapp_accounts a WHERE a.id = %(account_id)s
"""
OPT_OUT = """
UPDATE public.whatsapp_accounts
SET opt_in_status = 'opted_out', opted_out_at = %(at)s, updated_at = now()
WHERE id = %(account_id)s
"""
OPT_IN = """
UPDATE public.whatsapp_accounts
SET opt_in_status = 'opted_in', opted_in_at = %(at)s, updated_at = now()
WHERE id = %(account_id)s
"""
CANCEL_MESSAGES = """
UPDATE public.whatsapp_messages
SET status = 'failed', failed_reason = 'cancelled: opted out', failed_at = %(now)s,
    updated_at = now()
WHERE whatsapp_account_id = %(account_id)s AND direction = 'outbound'
  AND status = 'pending' AND send_started_at IS NULL
"""
CANCEL_JOBS = """
UPDATE public.scheduled_jobs
SET status = 'cancelled',
    result = jsonb_build_object('outcome', 'skipped', 'reason', 'opted_out',
      'cancelled_by', 'inbound_stop', 'inbound_external_id', %(wamid)s::text)
WHERE user_id = %(user_id)s AND status = 'pending' AND job_type = 'send_whatsapp'
"""
RECORD = """
INSERT INTO public.consent_events
  (user_id, whatsapp_account_id, intent, outcome, keyword, previous_status, new_status,
   inbound_external_id, occurred_at, cancelled_messages, cancelled_jobs)
VALUES (%(user_id)s, %(account_id)s, %(intent)s, %(outcome)s, %(keyword)s, %(previous)s,
        %(new)s, %(wamid)s, %(at)s, %(messages)s, %(jobs)s)
ON CONFLICT (inbound_external_id) DO NOTHING
"""


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
    status, last_change_at = connection.exec_driver_sql(ACCOUNT, ids).one()
    decision = decide(keyword.intent, status=status, at=keyword.at, last_change_at=last_change_at)
    messages = jobs = 0
    if decision.outcome == "opted_out":
        connection.exec_driver_sql(OPT_OUT, {**ids, "at": keyword.at})
    elif decision.outcome == "opted_in":
        connection.exec_driver_sql(OPT_IN, {**ids, "at": keyword.at})
    if keyword.intent == "stop" and decision.outcome != "stale":
        messages = connection.exec_driver_sql(CANCEL_MESSAGES, {**ids, "now": now}).rowcount
        jobs = connection.exec_driver_sql(CANCEL_JOBS, ids).rowcount
    connection.exec_driver_sql(
        RECORD,
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
