"""The rerun's statements: one candidate query, read for a dry run or fed to one UPDATE.

``CANDIDATES`` is every failed outbound message matching the filters, with the reason it
is excluded (NULL: re-queue it), computed exactly as ``reasons.exclusion_reason`` says.
Consent and preferences are read as they are now, from the message's account and the
traveller's preferences row (a missing row or NULL toggle means the seed's default).
"""

from __future__ import annotations

# The category's toggle is looked up by name in the preferences row as JSON; a missing
# row or NULL reads as the seed default (on, except marketing).
CANDIDATES = """
SELECT m.id, m.user_id, m.error_code, m.failed_reason, m.expires_at,
  coalesce(m.failed_at, m.created_at) AS failed_when,
  m.metadata -> 'template' ->> 'name' AS template,
  coalesce('error ' || m.error_code, 'no error code') AS failure,
  CASE
    WHEN m.metadata ->> 'category' = 'authentication' THEN 'verification_code'
    WHEN %(new_expires_at)s::timestamptz IS NULL AND (starts_with(m.failed_reason, 'expired')
         OR m.expires_at <= %(as_of)s::timestamptz) THEN 'expired'
    WHEN NOT %(include_permanent)s AND m.error_code = ANY(%(permanent_codes)s::int[])
      THEN 'permanent:' || m.error_code
    WHEN NOT %(include_permanent)s AND starts_with(m.failed_reason, 'cancelled:')
      THEN 'cancelled_by_consent'
    WHEN NOT %(include_permanent)s AND starts_with(m.failed_reason, 'outcome unknown')
      THEN 'outcome_unknown'
    WHEN a.is_verified IS NOT TRUE THEN 'account_not_verified'
    WHEN a.opt_in_status = 'opted_out' THEN 'opted_out'
    WHEN a.opt_in_status <> 'opted_in' THEN 'not_opted_in'
    WHEN m.metadata ->> 'category' = ANY(%(categories)s::text[])
     AND NOT coalesce((to_jsonb(p) ->> (m.metadata ->> 'category'))::boolean,
                      m.metadata ->> 'category' <> 'marketing')
      THEN CASE m.metadata ->> 'category' WHEN 'marketing' THEN 'marketing_not_allowed'
           ELSE 'category_disabled:' || (m.metadata ->> 'category') END
    WHEN jsonb_typeof(m.metadata) <> 'object' THEN 'metadata_not_an_object'
  END AS excluded
FROM public.whatsapp_messages AS m
JOIN public.whatsapp_accounts AS a ON a.id = m.whatsapp_account_id
LEFT JOIN public.notification_preferences AS p ON p.user_id = m.user_id
WHERE m.status = 'failed' AND m.direction = 'outbound'
  AND (%(since)s::timestamptz IS NULL OR coalesce(m.failed_at, m.created_at) >= %(since)s)
  AND coalesce(m.failed_at, m.created_at) < %(until)s::timestamptz
  AND (%(templates)s::text[] IS NULL
       OR m.metadata -> 'template' ->> 'name' = ANY(%(templates)s::text[]))
  AND (%(error_codes)s::int[] IS NULL OR m.error_code = ANY(%(error_codes)s::int[]))
  AND (%(user_ids)s::uuid[] IS NULL OR m.user_id = ANY(%(user_ids)s::uuid[]))
  AND (%(rule_ids)s::uuid[] IS NULL OR EXISTS (
        SELECT FROM public.scheduled_jobs AS j
        WHERE j.id = m.scheduled_job_id AND j.automation_rule_id = ANY(%(rule_ids)s::uuid[])))
"""

# Travellers among the candidates whose quiet hours are on: Python computes when each
# one's window ends (rules.quiet_hours, DST and all), fed back as ``quiet`` below.
QUIET_HOURS = f"""
WITH candidates AS ({CANDIDATES})
SELECT p.user_id, p.quiet_hours_enabled, p.quiet_hours_start, p.quiet_hours_end, p.timezone
FROM public.notification_preferences AS p
WHERE p.quiet_hours_enabled
  AND p.user_id IN (SELECT user_id FROM candidates WHERE excluded IS NULL)
"""

# Quiet hours defer a re-queued message to the end of the traveller's window; they never
# exclude it.
QUIET = """
quiet AS (
  SELECT * FROM unnest(%(quiet_users)s::uuid[], %(quiet_until)s::timestamptz[])
    AS q(user_id, until)
)
"""

COUNT_CANDIDATES = f"""
WITH candidates AS ({CANDIDATES}), {QUIET}
SELECT CASE WHEN c.excluded IS NOT NULL THEN 'excluded'
            WHEN q.until IS NOT NULL THEN 'would_defer' ELSE 'would_requeue' END AS outcome,
       coalesce(c.excluded, c.failure) AS reason, c.template, count(*) AS n
FROM candidates AS c LEFT JOIN quiet AS q ON q.user_id = c.user_id
GROUP BY 1, 2, 3
"""

PREVIEW_CANDIDATES = f"""
WITH candidates AS ({CANDIDATES})
SELECT id, user_id, template, error_code, failed_when, excluded
FROM candidates ORDER BY excluded NULLS FIRST, failed_when, id
LIMIT %(limit)s
"""

# The same rows back in the queue, in one statement. The UPDATE re-checks
# status = 'failed' on each row it locks, so a concurrent rerun (or anything else that
# moved the row on) makes it skip the row rather than queue it twice. Everything a
# previous attempt left is reset, and kept in the rerun's metadata entry:
# - status pending, due now (or when the traveller's quiet hours end); send_started_at /
#   lease cleared (not in doubt, unclaimed);
# - failed_at, failed_reason, error_code cleared (a pending row has no failure);
# - external_id, sent_at, delivered_at, read_at cleared: the new send gets its own
#   wamid and timestamps, and dispatch keeps an existing external_id (coalesce);
# - retry_count 0: the rerun gets dispatch's full retry budget. delivery_logs keep every
#   earlier attempt; the rerun's attempts are numbered from 1 again, after ``at``.
REQUEUE = f"""
WITH candidates AS ({CANDIDATES}), {QUIET},
requeued AS (
  UPDATE public.whatsapp_messages AS m
  SET status = 'pending', next_attempt_at = coalesce(q.until, %(now)s),
      send_started_at = NULL, lease_owner = NULL, lease_expires_at = NULL,
      failed_at = NULL, failed_reason = NULL, error_code = NULL,
      external_id = NULL, sent_at = NULL, delivered_at = NULL, read_at = NULL,
      retry_count = 0, updated_at = now(),
      -- an expired message comes back only with the new expiry the operator gave
      expires_at = CASE WHEN starts_with(m.failed_reason, 'expired')
                             OR m.expires_at <= %(as_of)s::timestamptz
                        THEN coalesce(%(new_expires_at)s::timestamptz, m.expires_at)
                        ELSE m.expires_at END,
      metadata = jsonb_set(
        coalesce(m.metadata, '{{}}'::jsonb), '{{reruns}}',
        coalesce(m.metadata -> 'reruns', '[]'::jsonb) || jsonb_build_array(jsonb_build_object(
          'at', %(now)s::timestamptz, 'run_id', %(run_id)s::text,
          'operator', %(operator)s::text, 'note', %(note)s::text,
          'previous', jsonb_build_object(
            'failed_at', m.failed_at, 'failed_reason', m.failed_reason,
            'error_code', m.error_code, 'retry_count', m.retry_count,
            'external_id', m.external_id, 'sent_at', m.sent_at))))
  FROM candidates AS c LEFT JOIN quiet AS q ON q.user_id = c.user_id
  WHERE m.id = c.id AND c.excluded IS NULL AND m.status = 'failed'
  RETURNING m.id, q.until IS NOT NULL AS deferred
)
SELECT CASE WHEN r.id IS NULL THEN 'excluded'
            WHEN r.deferred THEN 'deferred' ELSE 'requeued' END AS outcome,
       CASE WHEN r.id IS NOT NULL THEN c.failure
            ELSE coalesce(c.excluded, 'changed_concurrently') END AS reason,
       c.template, count(*) AS n
FROM candidates AS c LEFT JOIN requeued AS r ON r.id = c.id
GROUP BY 1, 2, 3
"""
