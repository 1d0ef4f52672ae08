"""Applying status receipts set-based: a temp table, a few statements per batch.

1. COPY the batch's receipts into ``tc_receipts``.
2. Match each to an outbound message by wamid (``external_id``), else by
   ``biz_opaque_callback_data`` = our message id (a send in doubt: its wamid is then
   recorded). A callback naming a message already sent under another wamid is a conflict;
   so is one whose wamid the message had before a rerun re-queued it (listed in
   ``metadata.reruns[].previous.external_id``): a late or duplicate receipt of the
   superseded send, which must not touch the re-queued row. Conflicts are kept as given
   up, with their reason, and never retried.
3. Lock the matched messages in id order (concurrent ingesters never deadlock on them).
4. One statement computes each message's next state as ``fold.fold_batch`` defines it,
   updates only rows that change, and writes delivery logs for first deliveries and
   applied failures (provider_response = the status object as Meta sent it). A message
   it takes out of ``pending`` (a send in doubt) also gets its send attempt's final
   word, 'sent' or 'failed', under that attempt's number, unless a dispatcher still
   holding the row will write it; so each attempt ends with exactly one such log.
5. Unmatched receipts are kept in ``webhook_unmatched_statuses`` and retried with
   backoff; a retried one that matches is applied and deleted; one still unmatched
   after ``give_up_after`` is given up with its reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy.engine import Connection

from tripcast.dispatch.sql import LOG_SETTLED_ATTEMPTS
from tripcast.models.engine import copy_rows
from tripcast.webhooks.extract import RECEIPT_RANK, Receipt

TEMP_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS tc_receipts (
  seq integer PRIMARY KEY, wamid text NOT NULL, status text NOT NULL, rank integer NOT NULL,
  at timestamptz NOT NULL, recipient text NOT NULL, callback text, callback_id uuid,
  error_code integer, failed_reason text, raw jsonb NOT NULL, delivery_id uuid,
  backlog_id uuid, message_id uuid, via_callback boolean NOT NULL DEFAULT false,
  conflict text
) ON COMMIT DELETE ROWS;
TRUNCATE tc_receipts
"""
COPY_COLUMNS = (
    "seq, wamid, status, rank, at, recipient, callback, callback_id, error_code, "
    "failed_reason, raw, delivery_id, backlog_id"
)

MATCH = """
UPDATE tc_receipts r SET message_id = m.id
FROM public.whatsapp_messages m
WHERE m.external_id = r.wamid AND m.direction = 'outbound';

UPDATE tc_receipts r
SET conflict = 'superseded send: message ' || m.id || ' was re-queued by a rerun; wamid '
               || r.wamid || ' belongs to an earlier send of it'
FROM public.whatsapp_messages m
WHERE r.message_id IS NULL AND m.id = r.callback_id AND m.direction = 'outbound'
  AND m.metadata -> 'reruns' @> jsonb_build_array(jsonb_build_object(
        'previous', jsonb_build_object('external_id', r.wamid)));

UPDATE tc_receipts r SET message_id = m.id, via_callback = true
FROM public.whatsapp_messages m
WHERE r.message_id IS NULL AND r.conflict IS NULL AND m.id = r.callback_id
  AND m.direction = 'outbound' AND m.external_id IS NULL;

UPDATE tc_receipts r
SET conflict = 'biz_opaque_callback_data names message ' || m.id || ', sent as another wamid'
FROM public.whatsapp_messages m
WHERE r.message_id IS NULL AND r.conflict IS NULL AND m.id = r.callback_id
  AND m.external_id <> r.wamid;

WITH firsts AS (
  SELECT DISTINCT ON (message_id) message_id, wamid FROM tc_receipts WHERE via_callback
  ORDER BY message_id, at, rank, seq
)
UPDATE tc_receipts r SET message_id = NULL, via_callback = false,
  conflict = 'biz_opaque_callback_data names message ' || f.message_id
             || ', matched to another wamid in the same batch'
FROM firsts f WHERE r.via_callback AND r.message_id = f.message_id AND r.wamid <> f.wamid
"""

LOCK = """
SELECT m.id FROM public.whatsapp_messages m
WHERE m.id IN (SELECT message_id FROM tc_receipts WHERE message_id IS NOT NULL)
ORDER BY m.id FOR UPDATE OF m
"""

# The SQL mirror of fold.fold_batch (see there). ``fails``: a failed receipt comes before
# any delivered/read one in batch order while the message is pending or sent.
# Logs: 'delivered' for a first delivery, 'failed' for a failure applied to a sent
# message, and, for a message the batch takes out of 'pending' (a send in doubt settled
# by its receipts), the verdict of that send attempt (dispatch's LOG_SETTLED_ATTEMPTS:
# the one rule for it, shared with dispatch's own reconciliation).
APPLY = f"""
WITH agg AS (
  SELECT message_id, min(wamid) AS wamid,
    min(at) FILTER (WHERE status <> 'failed') AS first_ok,
    min(at) FILTER (WHERE status = 'sent') AS first_sent,
    min(at) FILTER (WHERE status IN ('delivered', 'read')) AS first_adv,
    min(at) FILTER (WHERE status = 'read') AS first_read,
    min(at) FILTER (WHERE status = 'failed') AS first_fail,
    max(rank) FILTER (WHERE status <> 'failed') AS top_rank,
    (array_agg(seq ORDER BY at, rank, seq)
      FILTER (WHERE status IN ('delivered', 'read')))[1] AS adv_seq,
    (array_agg(seq ORDER BY at, seq) FILTER (WHERE status = 'failed'))[1] AS fail_seq
  FROM tc_receipts WHERE message_id IS NOT NULL GROUP BY message_id
), cur AS (
  SELECT m.id, m.user_id, m.status, m.sent_at, m.delivered_at, m.read_at, m.failed_at,
    m.external_id, a.*,
    m.status IN ('pending', 'sent') AND a.first_fail IS NOT NULL
      AND (a.first_adv IS NULL OR a.first_adv > a.first_fail) AS fails,
    m.status = 'failed' AS was_failed
  FROM public.whatsapp_messages m JOIN agg a ON a.message_id = m.id
), nxt AS (
  SELECT c.*,
    CASE WHEN c.was_failed OR c.fails THEN 'failed'
      ELSE (ARRAY['pending', 'sent', 'delivered', 'read'])[1 + greatest(
        array_position(ARRAY['pending', 'sent', 'delivered', 'read'], c.status) - 1,
        coalesce(c.top_rank, 0))]
    END AS new_status,
    CASE WHEN c.was_failed THEN c.sent_at
      WHEN c.fails THEN coalesce(c.sent_at, CASE WHEN c.first_sent <= c.first_fail
                                                 THEN c.first_sent END)
      ELSE coalesce(c.sent_at, c.first_ok) END AS new_sent_at,
    CASE WHEN c.was_failed OR c.fails THEN c.delivered_at
      ELSE coalesce(c.delivered_at, c.first_adv) END AS new_delivered_at,
    CASE WHEN c.was_failed OR c.fails THEN c.read_at
      ELSE coalesce(c.read_at, c.first_read) END AS new_read_at,
    CASE WHEN c.fails THEN coalesce(c.failed_at, c.first_fail) ELSE c.failed_at END
      AS new_failed_at
  FROM cur c
), upd AS (
  UPDATE public.whatsapp_messages m
  SET status = n.new_status, sent_at = n.new_sent_at, delivered_at = n.new_delivered_at,
      read_at = n.new_read_at, failed_at = n.new_failed_at,
      error_code = CASE WHEN n.fails THEN f.error_code ELSE m.error_code END,
      failed_reason = CASE WHEN n.fails THEN f.failed_reason ELSE m.failed_reason END,
      external_id = coalesce(m.external_id, n.wamid), updated_at = now()
  FROM nxt n LEFT JOIN tc_receipts f ON f.seq = n.fail_seq
  WHERE m.id = n.id
    AND (n.new_status, n.new_sent_at, n.new_delivered_at, n.new_read_at, n.new_failed_at,
         coalesce(n.external_id, n.wamid))
        IS DISTINCT FROM (n.status, n.sent_at, n.delivered_at, n.read_at, n.failed_at,
                          n.external_id)
  RETURNING m.id, m.user_id, m.whatsapp_account_id, m.lease_owner, m.send_started_at,
            coalesce(m.retry_count, 0) AS retry_count, m.status, m.sent_at, m.failed_at,
            m.failed_reason, m.error_code, m.external_id, n.status AS was
), settled AS (
  SELECT * FROM upd WHERE was = 'pending' AND status <> 'pending'
), verdicts AS ({LOG_SETTLED_ATTEMPTS}), logs AS (
  INSERT INTO public.delivery_logs
    (user_id, whatsapp_message_id, channel, recipient, status, provider_response,
     error_message, delivered_at, error_code)
  SELECT n.user_id, n.id, 'whatsapp', r.recipient, 'delivered', r.raw, NULL,
         n.new_delivered_at, NULL
  FROM nxt n JOIN tc_receipts r ON r.seq = n.adv_seq
  WHERE n.delivered_at IS NULL AND n.new_delivered_at IS NOT NULL
  UNION ALL
  SELECT n.user_id, n.id, 'whatsapp', r.recipient, 'failed', r.raw, r.failed_reason,
         NULL, r.error_code
  FROM nxt n JOIN tc_receipts r ON r.seq = n.fail_seq
  -- a message failing straight from pending, never accepted: that failure is the
  -- verdict of its send attempt, logged as such above (or by the dispatcher holding it)
  WHERE n.fails AND NOT (n.status = 'pending' AND n.new_sent_at IS NULL)
  RETURNING 1
)
SELECT 'updated:' || status, count(*) FROM upd GROUP BY status
UNION ALL SELECT 'logs', (SELECT count(*) FROM logs) + (SELECT count(*) FROM verdicts)
UNION ALL SELECT 'matched', count(*) FROM tc_receipts WHERE message_id IS NOT NULL
"""

# Receipts still unmatched: new ones are kept (duplicates of a kept receipt collapse),
# retried ones are rescheduled or given up; retried ones that matched are done.
KEEP_UNMATCHED = """
DELETE FROM public.webhook_unmatched_statuses
WHERE id IN (SELECT backlog_id FROM tc_receipts WHERE message_id IS NOT NULL);

INSERT INTO public.webhook_unmatched_statuses AS u
  (wamid, status, status_at, callback_data, payload, delivery_id, state, attempts,
   first_seen_at, next_attempt_at, given_up_at, reason)
SELECT DISTINCT ON (wamid, status, at) wamid, status, at, callback, raw, delivery_id,
  CASE WHEN conflict IS NULL THEN 'waiting' ELSE 'given_up' END, 1, %(now)s,
  %(now)s + %(first_delay)s, CASE WHEN conflict IS NOT NULL THEN %(now)s END,
  coalesce(conflict, 'no outbound message with this wamid or callback data yet')
FROM tc_receipts WHERE message_id IS NULL AND backlog_id IS NULL
ORDER BY wamid, status, at, seq
ON CONFLICT ON CONSTRAINT webhook_unmatched_statuses_receipt_key DO NOTHING;

UPDATE public.webhook_unmatched_statuses u
SET attempts = u.attempts + 1,
    next_attempt_at = %(now)s + least(%(cap)s, %(first_delay)s * power(2, least(u.attempts, 30))),
    state = CASE WHEN r.conflict IS NOT NULL
                   OR %(now)s - u.first_seen_at >= %(give_up_after)s
                 THEN 'given_up' ELSE 'waiting' END,
    given_up_at = CASE WHEN r.conflict IS NOT NULL
                         OR %(now)s - u.first_seen_at >= %(give_up_after)s THEN %(now)s END,
    reason = CASE
      WHEN r.conflict IS NOT NULL THEN r.conflict
      WHEN %(now)s - u.first_seen_at >= %(give_up_after)s THEN
        format('gave up after %%s attempts over %%s: no outbound message has wamid %%s '
               'or id %%s', u.attempts + 1, %(now)s - u.first_seen_at, u.wamid,
               coalesce(u.callback_data, '(no callback data)'))
      ELSE u.reason END
FROM tc_receipts r
WHERE u.id = r.backlog_id AND r.message_id IS NULL;

SELECT 'given_up', count(*) FROM public.webhook_unmatched_statuses
WHERE state = 'given_up' AND given_up_at = %(now)s
UNION ALL SELECT 'unmatched', count(*) FROM tc_receipts WHERE message_id IS NULL
UNION ALL SELECT 'retried_applied', count(*) FROM tc_receipts
WHERE message_id IS NOT NULL AND backlog_id IS NOT NULL
"""

# Kept receipts that are due, and recent ones whose wamid now exists (the send they
# raced has committed: no need to wait out the backoff). Only recent ones are checked
# that way, through their own index, so a large backlog of true orphans costs nothing.
CLAIM_BACKLOG = """
WITH candidates AS (
  (SELECT id FROM public.webhook_unmatched_statuses
   WHERE state = 'waiting' AND next_attempt_at <= %(now)s
   ORDER BY next_attempt_at LIMIT %(limit)s)
  UNION
  (SELECT u.id FROM public.webhook_unmatched_statuses u
   WHERE u.state = 'waiting' AND u.first_seen_at > %(now)s - %(recent)s
     AND EXISTS (SELECT 1 FROM public.whatsapp_messages m
                 WHERE m.external_id = u.wamid AND m.direction = 'outbound')
   LIMIT %(limit)s)
)
SELECT u.id, u.payload, u.delivery_id
FROM public.webhook_unmatched_statuses u JOIN candidates c ON c.id = u.id
WHERE u.state = 'waiting'
ORDER BY u.next_attempt_at
LIMIT %(limit)s
FOR UPDATE OF u SKIP LOCKED
"""
RECENT = timedelta(minutes=10)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff of kept receipts: first_delay, doubling up to cap; given up after a while."""

    first_delay: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=5)
    give_up_after: timedelta = timedelta(hours=24)


@dataclass
class ReceiptOutcome:
    received: int = 0
    matched: int = 0
    updated: Counter[str] = field(default_factory=Counter)
    delivery_logs: int = 0
    unmatched: int = 0
    given_up: int = 0
    retried_applied: int = 0


def claim_backlog(connection: Connection, *, now: datetime, limit: int) -> list[dict[str, Any]]:
    params = {"now": now, "limit": limit, "recent": RECENT}
    rows = connection.exec_driver_sql(CLAIM_BACKLOG, params).mappings()
    return [dict(row) for row in rows]


def apply_receipts(
    connection: Connection, receipts: Sequence[Receipt], *, now: datetime, policy: RetryPolicy
) -> ReceiptOutcome:
    """Apply one batch of receipts (new and retried) in the caller's transaction."""
    outcome = ReceiptOutcome(received=len(receipts))
    if not receipts:
        return outcome
    connection.exec_driver_sql(TEMP_TABLE)
    _copy(connection, receipts)
    connection.exec_driver_sql(MATCH)
    connection.exec_driver_sql(LOCK).all()
    for key, count in connection.exec_driver_sql(APPLY).all():
        if key.startswith("updated:"):
            outcome.updated[key.removeprefix("updated:")] += count
        elif key == "logs":
            outcome.delivery_logs = count
        else:
            outcome.matched = count
    _keep_unmatched(connection, outcome, now=now, policy=policy)
    return outcome


def _keep_unmatched(
    connection: Connection, outcome: ReceiptOutcome, *, now: datetime, policy: RetryPolicy
) -> None:
    params = {
        "now": now,
        "first_delay": policy.first_delay,
        "cap": policy.cap,
        "give_up_after": policy.give_up_after,
    }
    # One script to read, several statements to run: psycopg sends several statements in
    # one call only without parameters, so each goes on its own here.
    statements = [part.strip() for part in KEEP_UNMATCHED.split(";\n") if part.strip()]
    for statement in statements[:-1]:
        connection.exec_driver_sql(statement, params)
    rows = connection.exec_driver_sql(statements[-1], params).all()
    counts: dict[str, int] = {key: count for key, count in rows}
    outcome.given_up = counts.get("given_up", 0)
    outcome.unmatched = counts.get("unmatched", 0)
    outcome.retried_applied = counts.get("retried_applied", 0)


def _copy(connection: Connection, receipts: Sequence[Receipt]) -> None:
    rows = (
        (
            seq, r.wamid, r.status, RECEIPT_RANK[r.status], r.at, r.recipient,
            r.callback, r.callback_id, r.error_code, r.failed_reason, Jsonb(r.raw),
            r.delivery_id, r.backlog_id,
        )
        for seq, r in enumerate(receipts)
    )  # fmt: skip
    copy_rows(connection, "tc_receipts", COPY_COLUMNS, rows)
