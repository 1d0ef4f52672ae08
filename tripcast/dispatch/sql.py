"""Every statement dispatch runs, named and in one place.

Arrays go as binary parameters (``%(name)b``): psycopg writes a binary array of a
thousand values about ten times faster than a text one, whose elements it must quote.

Conventions: a claimed message carries this worker's lease (``lease_owner``); every
later write is guarded by it. ``send_started_at`` is set (and committed) before a
message's POST; a pending row with ``send_started_at`` set is *in doubt* and is never
claimed again, only reconciled from its status webhook or failed after a grace period.
"""

from __future__ import annotations

# The order of the claim: authentication, utility, service, marketing (the generated
# ``priority`` 0-3), oldest first within a class. A row without next_attempt_at is due
# since it was inserted and sorts first (as -infinity), then by created_at.
QUEUE_ORDER = "coalesce(next_attempt_at, '-infinity'::timestamptz), created_at"
PRIORITIES = (0, 1, 2, 3)


def _due_in_class(priority: int) -> str:
    # Each class is one range scan of idx_whatsapp_messages_dispatch_queue, in order.
    return f"""class_{priority} AS (
  SELECT id FROM public.whatsapp_messages
  WHERE priority = {priority} AND status = 'pending' AND direction = 'outbound'
    AND coalesce(next_attempt_at, '-infinity'::timestamptz) <= %(now)s
    AND send_started_at IS NULL
    AND (lease_expires_at IS NULL OR lease_expires_at < %(now)s)
    AND (expires_at IS NULL OR expires_at > %(now)s)
  ORDER BY {QUEUE_ORDER}
  LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED
)"""


# Due outbound messages, class by class. CTEs are read lazily: a class is only scanned
# when the classes before it leave room in the batch, so a marketing backlog costs an
# authentication code nothing, and marketing moves whenever the others are sparse.
CLAIM_DUE_MESSAGES = f"""
WITH {", ".join(_due_in_class(p) for p in PRIORITIES)}, due AS (
  {" UNION ALL ".join(f"(SELECT id FROM class_{p})" for p in PRIORITIES)}
  LIMIT %(limit)s
)
UPDATE public.whatsapp_messages AS m
SET lease_owner = %(owner)s, lease_expires_at = %(lease_until)s
FROM due, public.whatsapp_accounts AS a
WHERE m.id = due.id AND a.id = m.whatsapp_account_id
RETURNING m.id, m.user_id, m.message_type, m.content, m.metadata,
  coalesce(m.retry_count, 0) AS retry_count,
  a.phone_number, a.opt_in_status, a.last_inbound_at,
  (SELECT p.marketing FROM public.notification_preferences AS p
   WHERE p.user_id = m.user_id) AS marketing,
  m.created_at, a.opted_out_at, m.priority, m.expires_at, a.bsuid
"""

# Pending messages whose expiry has come and whose send never started: failed as
# expired, with a delivery log, in one statement (idx_whatsapp_messages_pending_expiry).
# Rows another dispatcher holds are left to it: its send-started mark refuses them.
EXPIRE_MESSAGES = """
WITH expired AS (
  SELECT id FROM public.whatsapp_messages
  WHERE status = 'pending' AND direction = 'outbound'
    AND expires_at IS NOT NULL AND expires_at <= %(now)s
    AND send_started_at IS NULL
    AND (lease_expires_at IS NULL OR lease_expires_at < %(now)s)
  LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED
), failed AS (
  UPDATE public.whatsapp_messages AS m
  SET status = 'failed', failed_at = %(now)s,
      failed_reason = 'expired: not sent by ' || to_char(m.expires_at AT TIME ZONE 'UTC',
                                                         'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
      error_code = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
  FROM expired WHERE m.id = expired.id
  RETURNING m.id, m.user_id, m.whatsapp_account_id, m.failed_reason
)
INSERT INTO public.delivery_logs
  (user_id, whatsapp_message_id, channel, recipient, status, error_message, attempt,
   provider_response, created_at)
SELECT f.user_id, f.id, 'whatsapp', a.phone_number, 'failed', f.failed_reason,
       NULL, jsonb_build_object('source', 'tripcast', 'reason', 'expired'), %(now)s
FROM failed AS f JOIN public.whatsapp_accounts AS a ON a.id = f.whatsapp_account_id
RETURNING whatsapp_message_id
"""

# Batch updates lock their rows in id order first, as the webhook ingest does, so the
# two never deadlock on a batch's messages.

# Committed before the POSTs. Re-checks status and opt-in at the last moment, so a STOP
# applied since the claim still stops the send; only the returned ids are sent.
# ``code_expires_at`` is set (by plan.verification_expiry) for verification codes only:
# those also go to pending accounts, and to opted-out ones when queued after the
# opt-out (plan.code_may_reach), and never at or after their expiry.
MARK_SEND_STARTED = """
WITH wanted AS (
  SELECT * FROM unnest(%(ids)b::uuid[], %(code_expires_at)b::timestamptz[], %(senders)b::text[])
    AS w(id, code_expires_at, sender)
), locked AS (
  SELECT id FROM public.whatsapp_messages
  WHERE id = ANY(%(ids)b::uuid[]) ORDER BY id FOR UPDATE
)
UPDATE public.whatsapp_messages AS m
SET send_started_at = %(now)s,
    sender_phone_number_id = coalesce(w.sender, m.sender_phone_number_id)
FROM locked JOIN wanted AS w ON w.id = locked.id
WHERE m.id = locked.id AND m.lease_owner = %(owner)s AND m.status = 'pending'
  AND (m.expires_at IS NULL OR m.expires_at > %(now)s)
  AND (w.code_expires_at IS NULL OR w.code_expires_at > %(now)s)
  AND EXISTS (SELECT FROM public.whatsapp_accounts AS a
              WHERE a.id = m.whatsapp_account_id
                AND (a.opt_in_status = 'opted_in'
                     OR (w.code_expires_at IS NOT NULL
                         AND (a.opt_in_status = 'pending'
                              OR (a.opt_in_status = 'opted_out'
                                  AND m.created_at > a.opted_out_at)))))
RETURNING m.id
"""


# A send attempt settled by a status receipt (the receipt took its row out of 'pending':
# the send was in doubt, a retry was scheduled, or the receipt overtook the dispatcher's
# own write) ends with one delivery log, the attempt's final word ("verdict"): 'sent'
# when WhatsApp accepted the send (the row has a sent_at), else 'failed' with Meta's
# error. What happens to the message afterwards is logged by whoever applies its
# receipts, as for every send: 'delivered' once, 'failed' when a sent message fails. So
# a verdict never says 'delivered', and is read from the row as the receipts left it.
def attempt_verdict(row: str) -> str:
    """The verdict of the attempt a receipt settled, from the row alias ``row``."""
    return (
        f"CASE WHEN {row}.sent_at IS NOT NULL OR {row}.status IN ('sent', 'delivered', 'read') "
        "THEN 'sent' ELSE 'failed' END"
    )


# The verdict logs of rows a receipt just took out of 'pending', from a relation
# ``settled`` holding those rows as updated (id, user_id, whatsapp_account_id,
# lease_owner, send_started_at, retry_count, status, sent_at, failed_at, failed_reason,
# error_code, external_id). Used by the webhook ingest. Who logs
# the verdict: a dispatcher holding the row with its send started logs it itself (a live
# one in WRITE_OUTCOMES, a dead one's in RELEASE_ORPHANED_LEASES when its lease runs
# out); otherwise nobody else will, and it is logged here, under the attempt the receipt
# answers: in doubt (send started) the attempt was not counted as a retry; scheduled for
# a retry, it was.
LOG_SETTLED_ATTEMPTS = f"""
INSERT INTO public.delivery_logs
  (user_id, whatsapp_message_id, channel, recipient, status, provider_response,
   error_message, attempt, error_code, created_at)
SELECT s.user_id, s.id, 'whatsapp', a.phone_number, v.verdict,
       jsonb_build_object('source', 'status webhook', 'id', s.external_id,
                          'status', s.status),
       CASE WHEN v.verdict = 'failed' THEN s.failed_reason END,
       CASE WHEN s.send_started_at IS NOT NULL THEN s.retry_count + 1
            ELSE greatest(s.retry_count, 1) END,
       CASE WHEN v.verdict = 'failed' THEN s.error_code END,
       coalesce(s.sent_at, s.failed_at, now())
FROM settled AS s
JOIN public.whatsapp_accounts AS a ON a.id = s.whatsapp_account_id
CROSS JOIN LATERAL (SELECT {attempt_verdict("s")} AS verdict) AS v
WHERE s.lease_owner IS NULL OR s.send_started_at IS NULL
RETURNING whatsapp_message_id
"""

# One statement for the whole batch: the rows' new state and one delivery log per POST.
# A row the status webhook already moved on (ingest matched it by callback data) keeps
# its status and failure fields: the receipt knows better than a dropped connection,
# and when we could only call the attempt in doubt (or retry it), the attempt's verdict
# (attempt_verdict) is logged for it too. keep_started is false only for rows definitely not
# accepted that go back to the queue. Logs are written only for rows updated here, so
# re-running the statement after a lost commit (the lease is gone by then) writes
# nothing twice.
WRITE_OUTCOMES = f"""
WITH attempts AS (
  SELECT * FROM unnest(%(log_user_ids)b::uuid[], %(log_message_ids)b::uuid[],
                       %(log_recipients)b::text[], %(log_statuses)b::text[],
                       %(log_responses)b::jsonb[], %(log_errors)b::text[],
                       %(log_attempts)b::int[], %(log_error_codes)b::int[],
                       %(log_created_at)b::timestamptz[])
    AS l(user_id, message_id, recipient, status, provider_response, error_message,
         attempt, error_code, created_at)
), locked AS (
  SELECT id FROM public.whatsapp_messages
  WHERE id = ANY(%(ids)b::uuid[]) ORDER BY id FOR UPDATE
), written AS (
  UPDATE public.whatsapp_messages AS m
  SET status = CASE WHEN m.status = 'pending' THEN o.status ELSE m.status END,
      external_id = coalesce(m.external_id, o.external_id),
      sent_at = coalesce(m.sent_at, o.sent_at),
      failed_at = CASE WHEN m.status = 'pending' THEN o.failed_at ELSE m.failed_at END,
      failed_reason = CASE WHEN m.status = 'pending' THEN o.failed_reason
                           ELSE m.failed_reason END,
      error_code = CASE WHEN m.status = 'pending' THEN o.error_code ELSE m.error_code END,
      retry_count = o.retry_count,
      next_attempt_at = coalesce(o.next_attempt_at, m.next_attempt_at),
      send_started_at = CASE WHEN o.keep_started THEN m.send_started_at END,
      lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
  FROM unnest(%(ids)b::uuid[], %(statuses)b::text[], %(external_ids)b::text[],
              %(sent_at)b::timestamptz[], %(failed_at)b::timestamptz[],
              %(failed_reasons)b::text[], %(error_codes)b::int[], %(retry_counts)b::int[],
              %(next_attempt_at)b::timestamptz[], %(keep_started)b::boolean[])
    AS o(id, status, external_id, sent_at, failed_at, failed_reason, error_code,
         retry_count, next_attempt_at, keep_started)
  JOIN locked ON locked.id = o.id
  WHERE m.id = o.id AND m.lease_owner = %(owner)s
  RETURNING m.id, m.status, m.external_id, m.sent_at, m.failed_at, m.failed_reason,
            m.error_code, o.status AS ours, m.created_at
), logged AS (
  INSERT INTO public.delivery_logs
    (user_id, whatsapp_message_id, channel, recipient, status, provider_response,
     error_message, attempt, error_code, created_at)
  SELECT l.user_id, l.message_id, 'whatsapp', l.recipient, l.status, l.provider_response,
         l.error_message, l.attempt, l.error_code, l.created_at
  FROM attempts AS l JOIN written AS w ON w.id = l.message_id
  UNION ALL
  SELECT l.user_id, l.message_id, 'whatsapp', l.recipient, v.verdict,
         jsonb_build_object('source', 'status webhook', 'id', w.external_id,
                            'status', w.status),
         CASE WHEN v.verdict = 'failed' THEN w.failed_reason END, l.attempt,
         CASE WHEN v.verdict = 'failed' THEN w.error_code END,
         coalesce(w.sent_at, w.failed_at, l.created_at)
  FROM attempts AS l JOIN written AS w ON w.id = l.message_id
  CROSS JOIN LATERAL (SELECT {attempt_verdict("w")} AS verdict) AS v
  WHERE w.ours = 'pending' AND w.status <> 'pending'
)
SELECT id, created_at FROM written
"""

# GCRA without burst credit: a block of `span` seconds of send slots starts at the
# schedule's end, or `lead` seconds from now if the schedule fell behind (slots left
# unused are never handed out late). The database clock is read once, after the row
# lock, and the answer is relative to it ("first slot in N seconds"), so workers on
# machines with skewed clocks still share one schedule.
RESERVE_SLOTS = """
INSERT INTO public.send_pacing AS p (phone_number_id, next_slot_at, updated_at)
SELECT %(phone_number_id)s, c.now + make_interval(secs => %(lead)s + %(span)s), c.now
FROM (SELECT clock_timestamp() AS now) AS c
ON CONFLICT (phone_number_id) DO UPDATE
SET (next_slot_at, updated_at) = (
  SELECT greatest(p.next_slot_at, c.now + make_interval(secs => %(lead)s))
         + make_interval(secs => %(span)s), c.now
  FROM (SELECT clock_timestamp() AS now) AS c
)
RETURNING extract(epoch FROM p.next_slot_at - p.updated_at)::float8 - %(span)s
"""

# After a 130429 nobody may send on this number for `pause` seconds: reservations made
# from now on start after the pause.
PUSH_SCHEDULE = """
UPDATE public.send_pacing AS p
SET (next_slot_at, updated_at) = (
  SELECT greatest(p.next_slot_at, c.now + make_interval(secs => %(pause)s)), c.now
  FROM (SELECT clock_timestamp() AS now) AS c
)
WHERE p.phone_number_id = %(phone_number_id)s
"""

# In-doubt sends whose worker is gone (lease expired) and whose status webhook never
# came within the grace period: failed as "outcome unknown", never re-sent. The attempt
# gets its delivery log here (a dead worker wrote none).
EXPIRE_IN_DOUBT = """
WITH expired AS (
  SELECT id FROM public.whatsapp_messages
  WHERE status = 'pending' AND direction = 'outbound'
    AND send_started_at < %(cutoff)s
    AND (lease_expires_at IS NULL OR lease_expires_at < %(now)s)
  LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED
), failed AS (
  UPDATE public.whatsapp_messages AS m
  SET status = 'failed', failed_at = %(now)s, failed_reason = %(reason)s, error_code = NULL,
      lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
  FROM expired WHERE m.id = expired.id
  RETURNING m.id, m.user_id, m.whatsapp_account_id, coalesce(m.retry_count, 0) + 1 AS attempt
)
INSERT INTO public.delivery_logs
  (user_id, whatsapp_message_id, channel, recipient, status, error_message, attempt,
   created_at)
SELECT f.user_id, f.id, 'whatsapp', a.phone_number, 'failed', %(reason)s, f.attempt, %(now)s
FROM failed AS f JOIN public.whatsapp_accounts AS a ON a.id = f.whatsapp_account_id
RETURNING whatsapp_message_id
"""

# Rows a dead dispatcher still leases although the status webhook settled them: release
# them and log the verdict of the attempt the dispatcher never logged (it died before
# writing). Read through idx_whatsapp_messages_dispatch_leased, which holds only leased
# rows.
RELEASE_ORPHANED_LEASES = f"""
WITH orphans AS (
  SELECT id FROM public.whatsapp_messages
  WHERE lease_owner IS NOT NULL AND lease_expires_at < %(now)s AND status <> 'pending'
  LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED
), released AS (
  UPDATE public.whatsapp_messages AS m
  SET lease_owner = NULL, lease_expires_at = NULL
  FROM orphans WHERE m.id = orphans.id
  RETURNING m.id, m.user_id, m.whatsapp_account_id, m.status, m.external_id,
            m.send_started_at, coalesce(m.retry_count, 0) + 1 AS attempt, m.failed_reason,
            m.error_code, m.sent_at, coalesce(m.sent_at, m.failed_at, %(now)s) AS at
)
INSERT INTO public.delivery_logs
  (user_id, whatsapp_message_id, channel, recipient, status, provider_response,
   error_message, attempt, error_code, created_at)
SELECT r.user_id, r.id, 'whatsapp', a.phone_number, v.verdict,
       jsonb_build_object('source', 'status webhook', 'id', r.external_id,
                          'status', r.status, 'note', 'dispatcher stopped before logging'),
       CASE WHEN v.verdict = 'failed' THEN r.failed_reason END, r.attempt,
       CASE WHEN v.verdict = 'failed' THEN r.error_code END, r.at
FROM released AS r JOIN public.whatsapp_accounts AS a ON a.id = r.whatsapp_account_id
CROSS JOIN LATERAL (SELECT {attempt_verdict("r")} AS verdict) AS v
WHERE r.send_started_at IS NOT NULL
RETURNING whatsapp_message_id
"""
