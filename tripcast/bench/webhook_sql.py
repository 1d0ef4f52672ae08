"""Bulk SQL of the ingest benchmark: sent messages, stored deliveries, the bare ceiling."""

from __future__ import annotations

# n travellers, each with one sent message whose wamid is wamid.ingest.<g>.
SENT_MESSAGES = """
WITH users AS (
  INSERT INTO auth.users (id, email)
  SELECT gen_random_uuid(), 'ingest-' || g || '@example.test' FROM generate_series(1, %(n)s) g
  RETURNING id
), accounts AS (
  INSERT INTO public.whatsapp_accounts
    (user_id, phone_number, country_code, is_verified, opt_in_status)
  SELECT id, '35194' || lpad((row_number() OVER ())::text, 7, '0'), 'PT', true, 'opted_in'
  FROM users
  RETURNING id, user_id, phone_number
)
INSERT INTO public.whatsapp_messages
  (user_id, whatsapp_account_id, direction, message_type, content, status, external_id,
   sent_at, created_at)
SELECT user_id, id, 'outbound', 'text', 'Your trip starts tomorrow', 'sent',
       'wamid.ingest.' || ltrim(substr(phone_number, 6), '0'),
       now() - interval '2 minutes', now() - interval '2 minutes'
FROM accounts
"""

# Deliveries of `per` receipts each: every message's `delivered` (phase 0), then its
# `read` (phase 1), received in that order.
DELIVERIES = """
WITH s AS (
  SELECT p.phase, (g - 1) / %(per)s AS batch,
         jsonb_build_object(
           'id', 'wamid.ingest.' || g, 'status', p.name,
           'timestamp', (extract(epoch FROM now())::bigint - 60 + p.phase)::text,
           'recipient_id', '35194' || lpad(g::text, 7, '0')) AS status
  FROM generate_series(1, %(n)s) g, (VALUES (0, 'delivered'), (1, 'read')) AS p(phase, name)
), d AS (
  SELECT phase, batch, jsonb_agg(status) AS statuses, count(*) AS n
  FROM s GROUP BY phase, batch
)
INSERT INTO public.webhook_deliveries (received_at, body_sha256, payload, item_count)
SELECT now() - interval '1 hour' + (phase * 1000000 + batch) * interval '1 millisecond',
       md5(%(run)s || ':' || phase || ':' || batch),
       jsonb_build_object('object', 'whatsapp_business_account', 'entry', jsonb_build_array(
         jsonb_build_object('id', '1024', 'changes', jsonb_build_array(jsonb_build_object(
           'field', 'messages', 'value', jsonb_build_object(
             'messaging_product', 'whatsapp',
             'metadata', jsonb_build_object('display_phone_number', '15550001111',
                                            'phone_number_id', '100000000000001'),
             'statuses', statuses)))))),
       n
FROM d
"""

# The same row changes as the ingest makes, without anything around them.
BARE_DELIVERED = """
WITH delivered AS (
  UPDATE public.whatsapp_messages m
  SET status = 'delivered', delivered_at = now(), updated_at = now()
  FROM generate_series(1, %(n)s) g
  WHERE m.external_id = 'wamid.ingest.' || g
  RETURNING m.id, m.user_id
)
INSERT INTO public.delivery_logs (user_id, whatsapp_message_id, channel, recipient, status)
SELECT user_id, id, 'whatsapp', 'bench', 'delivered' FROM delivered
"""
BARE_READ = """
UPDATE public.whatsapp_messages m
SET status = 'read', read_at = now(), updated_at = now()
FROM generate_series(1, %(n)s) g
WHERE m.external_id = 'wamid.ingest.' || g
"""
BARE_APPLY = (BARE_DELIVERED, BARE_READ)
