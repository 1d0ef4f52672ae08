"""The statements of webhook ingest, named and in one place, module by module.

Each section holds the statements one module of this package runs: the receiver's
store commits its one insert by itself (autocommit); every other statement runs in the
caller's transaction. Where a batch writes several accounts (inbound, identity), they
are locked in id order first, so concurrent ingesters queue instead of deadlocking. The
status-receipt pipeline (a temp table and five statements that read well only beside
the steps they implement) keeps its statements in ``receipts.py``.
"""

from __future__ import annotations

# --- deliveries.py: the receiver's durable store -----------------------------------------

# Where a newly stored delivery is announced, for an ingest loop that LISTENs.
DELIVERIES_CHANNEL = "tripcast_webhook_deliveries"

# ON CONFLICT: Meta's re-deliveries of the same body are stored once.
STORE_DELIVERY = f"""
WITH ins AS (
  INSERT INTO public.webhook_deliveries (body_sha256, payload, item_count)
  VALUES (%s, %s::jsonb, %s)
  ON CONFLICT (body_sha256) DO NOTHING
  RETURNING id
)
SELECT pg_notify('{DELIVERIES_CHANNEL}', id::text) FROM ins
"""


# --- ingest.py: the queue of stored deliveries -------------------------------------------

CLAIM_DELIVERIES = """
SELECT id, payload, attempts FROM public.webhook_deliveries
WHERE status = 'received' AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)
ORDER BY received_at
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
"""

MARK_DELIVERIES = """
UPDATE public.webhook_deliveries AS d
SET status = o.status, processed_at = %(now)s, last_error = o.error
FROM unnest(%(ids)s::uuid[], %(statuses)s::text[], %(errors)s::text[]) AS o(id, status, error)
WHERE d.id = o.id
"""

POSTPONE_DELIVERIES = """
UPDATE public.webhook_deliveries
SET attempts = attempts + 1, last_error = %(error)s,
    status = CASE WHEN attempts + 1 >= %(max_attempts)s THEN 'rejected' ELSE 'received' END,
    processed_at = CASE WHEN attempts + 1 >= %(max_attempts)s THEN %(now)s END,
    next_attempt_at = %(now)s + least(%(cap)s, %(first_delay)s * power(2, attempts))
WHERE id = %(id)s
"""

PRUNE_DELIVERIES = """
DELETE FROM public.webhook_deliveries WHERE id IN (
  SELECT id FROM public.webhook_deliveries
  WHERE status = 'applied' AND processed_at < %(cutoff)s
  LIMIT %(batch)s
)
"""

GIVE_UP_KEPT = """
UPDATE public.webhook_unmatched_statuses
SET state = 'given_up', given_up_at = %(now)s, reason = %(reason)s
WHERE id = %(id)s
"""


# --- inbound.py: inbound messages, staged in a temp table --------------------------------

INBOUND_TEMP_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS tc_inbound (
  seq integer PRIMARY KEY, wamid text NOT NULL, sender text, at timestamptz NOT NULL,
  wa_type text NOT NULL, message_type text NOT NULL, content text NOT NULL, intent text,
  keyword text, metadata jsonb NOT NULL, raw jsonb NOT NULL, phone_number_id text,
  profile_name text, delivery_id uuid, account_id uuid, user_id uuid,
  is_new boolean NOT NULL DEFAULT false, sender_user_id text
) ON COMMIT DELETE ROWS;
TRUNCATE tc_inbound
"""

INBOUND_COLUMNS = (
    "seq, wamid, sender, at, wa_type, message_type, content, intent, keyword, metadata, raw, "
    "phone_number_id, profile_name, delivery_id, sender_user_id"
)

MATCH_INBOUND_ACCOUNTS = """
UPDATE tc_inbound i SET account_id = a.id, user_id = a.user_id
FROM public.whatsapp_accounts a WHERE a.phone_number = i.sender;

UPDATE tc_inbound i SET account_id = a.id, user_id = a.user_id
FROM public.whatsapp_accounts a
WHERE i.account_id IS NULL AND i.sender IS NULL AND a.bsuid = i.sender_user_id
"""

# Accounts are locked in id order before any of them is written: concurrent ingesters
# then queue instead of deadlocking.
LOCK_INBOUND_ACCOUNTS = """
SELECT a.id FROM public.whatsapp_accounts a
WHERE a.id IN (SELECT account_id FROM tc_inbound)
ORDER BY a.id FOR UPDATE OF a
"""

INSERT_INBOUND_MESSAGES = """
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

KEEP_UNKNOWN_SENDERS = """
INSERT INTO public.webhook_unknown_senders
  (sender, sender_user_id, external_id, message_type, content, intent, profile_name,
   phone_number_id, sent_at, delivery_id, payload)
SELECT DISTINCT ON (wamid) sender, sender_user_id, wamid, wa_type, content, intent,
  profile_name, phone_number_id, at, delivery_id, raw
FROM tc_inbound WHERE account_id IS NULL ORDER BY wamid, seq
ON CONFLICT (external_id) DO NOTHING
RETURNING coalesce(sender, sender_user_id)
"""

INBOUND_COUNTS = """
SELECT count(*) FILTER (WHERE is_new),
       count(*) FILTER (WHERE account_id IS NOT NULL AND NOT is_new)
FROM tc_inbound
"""

CONSENT_CANDIDATES = """
SELECT account_id, user_id, intent, keyword, at, wamid FROM tc_inbound
WHERE is_new AND intent IS NOT NULL ORDER BY account_id, at, seq
"""


# --- consent.py: STOP / START keywords ---------------------------------------------------

CONSENT_ACCOUNT = """
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

RECORD_CONSENT = """
INSERT INTO public.consent_events
  (user_id, whatsapp_account_id, intent, outcome, keyword, previous_status, new_status,
   inbound_external_id, occurred_at, cancelled_messages, cancelled_jobs)
VALUES (%(user_id)s, %(account_id)s, %(intent)s, %(outcome)s, %(keyword)s, %(previous)s,
        %(new)s, %(wamid)s, %(at)s, %(messages)s, %(jobs)s)
ON CONFLICT (inbound_external_id) DO NOTHING
"""


# --- marketing.py: marketing opt-in and opt-out signals ----------------------------------

MARKETING_ACCOUNT = """
SELECT a.id, a.user_id,
  (SELECT p.marketing FROM public.notification_preferences p WHERE p.user_id = a.user_id),
  (SELECT max(e.occurred_at) FROM public.consent_events e
   WHERE e.whatsapp_account_id = a.id AND e.source <> 'keyword')
FROM public.whatsapp_accounts a
WHERE a.phone_number = %(wa_id)s OR a.bsuid = %(bsuid)s
ORDER BY a.phone_number = %(wa_id)s DESC
LIMIT 1
FOR UPDATE OF a
"""

MARKETING_SEEN = "SELECT 1 FROM public.consent_events WHERE inbound_external_id = %(key)s"

SET_MARKETING = """
INSERT INTO public.notification_preferences (user_id, marketing) VALUES (%(user_id)s, %(on)s)
ON CONFLICT (user_id) DO UPDATE SET marketing = excluded.marketing, updated_at = now()
"""

RECORD_MARKETING = """
INSERT INTO public.consent_events
  (user_id, whatsapp_account_id, intent, outcome, keyword, previous_status, new_status,
   inbound_external_id, occurred_at, source)
VALUES (%(user_id)s, %(account_id)s, %(intent)s, %(outcome)s, %(keyword)s, %(previous)s,
        %(new)s, %(key)s, %(at)s, 'user_preferences')
ON CONFLICT (inbound_external_id) DO NOTHING
"""


# --- identity.py: BSUIDs and usernames ---------------------------------------------------

# Accounts are locked in id order before any is written, as inbound.py does.
LOCK_IDENTITY_ACCOUNTS = """
SELECT a.id FROM public.whatsapp_accounts a
WHERE a.phone_number = ANY(%(numbers)s) OR a.bsuid = ANY(%(bsuids)s)
ORDER BY a.id FOR UPDATE OF a
"""

LEARN_IDENTITIES = """
UPDATE public.whatsapp_accounts a
SET bsuid = i.bsuid, username = coalesce(i.username, a.username), updated_at = now()
FROM unnest(%(numbers)s::text[], %(bsuids)s::text[], %(usernames)s::text[])
  AS i(wa_id, bsuid, username)
WHERE a.phone_number = i.wa_id
  AND (a.bsuid IS DISTINCT FROM i.bsuid
       OR (i.username IS NOT NULL AND a.username IS DISTINCT FROM i.username))
  AND NOT EXISTS (SELECT 1 FROM public.whatsapp_accounts b
                  WHERE b.bsuid = i.bsuid AND b.id <> a.id)
RETURNING a.id, a.bsuid
"""

BSUID_CONFLICTS = """
SELECT a.id, i.bsuid FROM unnest(%(numbers)s::text[], %(bsuids)s::text[]) AS i(wa_id, bsuid)
JOIN public.whatsapp_accounts a ON a.phone_number = i.wa_id
WHERE EXISTS (SELECT 1 FROM public.whatsapp_accounts b WHERE b.bsuid = i.bsuid AND b.id <> a.id)
"""

RENAME_USERNAMES = """
UPDATE public.whatsapp_accounts a SET username = i.username, updated_at = now()
FROM unnest(%(bsuids)s::text[], %(usernames)s::text[]) AS i(bsuid, username)
WHERE a.bsuid = i.bsuid AND a.username IS DISTINCT FROM i.username
"""

LINK_UNKNOWN_SENDERS = """
UPDATE public.webhook_unknown_senders u
SET whatsapp_account_id = a.id, linked_at = %(now)s
FROM public.whatsapp_accounts a
WHERE a.bsuid = ANY(%(bsuids)s) AND u.sender_user_id = a.bsuid
  AND u.whatsapp_account_id IS NULL
RETURNING u.payload, u.phone_number_id, u.profile_name, u.delivery_id
"""


# --- review.py: notices: review items, number changes, edits, revocations ----------------

RECORD_REVIEW_ITEM = """
INSERT INTO public.webhook_review_items
  (kind, item_key, delivery_id, path, sender, reason, payload, occurred_at)
VALUES (%(kind)s, %(key)s, %(delivery)s, %(path)s, %(sender)s, %(reason)s, %(payload)s, %(at)s)
ON CONFLICT ON CONSTRAINT webhook_review_items_item_key DO NOTHING
RETURNING id
"""

SET_REVIEW_REASON = "UPDATE public.webhook_review_items SET reason = %(reason)s WHERE id = %(id)s"

# Matched by the old number, or by the BSUID when Meta withheld the number; the BSUID
# stays with the account (a webhook carrying the new number with Meta's new BSUID, if
# Meta issues one, replaces it: see identity.py).
CHANGE_NUMBER = """
UPDATE public.whatsapp_accounts a
SET phone_number = %(new)s, country_code = %(country)s, updated_at = now()
WHERE (a.phone_number = %(old)s OR (%(old)s::text IS NULL AND a.bsuid = %(bsuid)s))
  AND NOT EXISTS (SELECT 1 FROM public.whatsapp_accounts b WHERE b.phone_number = %(new)s)
RETURNING a.id
"""

FIND_ORIGINAL = """
SELECT m.id FROM public.whatsapp_messages m
JOIN public.whatsapp_accounts a ON a.id = m.whatsapp_account_id
WHERE m.external_id = %(target)s AND m.direction = 'inbound'
  AND (a.phone_number = %(sender)s OR a.bsuid = %(bsuid)s)
FOR UPDATE OF m
"""

# The time guard makes a re-delivered or late, older edit change nothing.
EDIT_MESSAGE = """
UPDATE public.whatsapp_messages m
SET content = coalesce(%(content)s, m.content), updated_at = now(),
    metadata = coalesce(m.metadata, '{}'::jsonb) || jsonb_build_object(
      'original_content', coalesce(m.metadata -> 'original_content', to_jsonb(m.content)),
      'edited_at', %(at)s::timestamptz, 'edit_wamid', %(wamid)s::text)
WHERE m.id = %(id)s
  AND (m.metadata ->> 'edited_at' IS NULL OR (m.metadata ->> 'edited_at')::timestamptz < %(at)s)
"""

REVOKE_MESSAGE = """
UPDATE public.whatsapp_messages m
SET updated_at = now(), metadata = coalesce(m.metadata, '{}'::jsonb) || jsonb_build_object(
      'revoked_at', %(at)s::timestamptz, 'revoke_wamid', %(wamid)s::text)
WHERE m.id = %(id)s AND m.metadata ->> 'revoked_at' IS NULL
"""


# --- watch.py: `tripcast watch` ----------------------------------------------------------

# The row of an announced id, when it is the watched user's.
WATCH_DETAILS = """
SELECT left(m.content, 200), m.failed_reason, a.phone_number, m.updated_at
FROM public.whatsapp_messages m JOIN public.whatsapp_accounts a ON a.id = m.whatsapp_account_id
WHERE m.id = %s AND m.user_id = %s
"""
