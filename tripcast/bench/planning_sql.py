"""Bulk SQL of the planning benchmark: the world, and the bare statements of its ceiling.

``spread`` true: trips start from 30 days ago to 335 days ahead, bookings were made over
the last 30 days, spending is 0 to 99 % of the budget (a tenth at 90 % or more): a day
like any other, where a 24-hour horizon finds a few percent of the pairs due.
``spread`` false: trips start 8 to 307 days ahead, every booking is 47 hours old and
every trip at 95 % of its budget, so a 400-day horizon finds every pair due.
"""

from __future__ import annotations

WORLD = (
    """
INSERT INTO auth.users (id, email)
SELECT gen_random_uuid(), 'planner-' || g || '@example.test' FROM generate_series(1, %(n)s) g
""",
    """
INSERT INTO public.notification_preferences (user_id, timezone)
SELECT id, (ARRAY['Europe/Lisbon', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney',
                  'America/Sao_Paulo', 'Europe/Berlin', 'Asia/Kolkata', 'UTC'])
           [1 + (row_number() OVER () %% 8)]
FROM auth.users
""",
    """
INSERT INTO public.trips (user_id, title, destination, start_date, end_date, budget_amount)
SELECT u.id, 'Trip ' || k, 'Porto', current_date + d.offset_days, current_date + d.offset_days + 5,
       1000
FROM (SELECT id, row_number() OVER () AS n FROM auth.users) u,
     generate_series(1, %(trips_each)s) k,
     LATERAL (SELECT CASE WHEN %(spread)s THEN ((k * 61 + u.n) %% 365)::int - 30
                          ELSE ((k * 61 + u.n) %% 300)::int + 8 END AS offset_days) d
""",
    """
INSERT INTO public.bookings (trip_id, user_id, booking_type, status, created_at)
SELECT id, user_id, 'hotel', 'pending',
       CASE WHEN %(spread)s THEN now() - make_interval(hours => (row_number() OVER () %% 720)::int)
            ELSE now() - interval '47 hours' END
FROM public.trips
""",
    """
INSERT INTO public.expenses (trip_id, user_id, amount, category)
SELECT id, user_id, CASE WHEN %(spread)s THEN (row_number() OVER () %% 100) * 10 ELSE 950 END,
       'lodging'
FROM public.trips
""",
    """
INSERT INTO public.automation_rules
  (user_id, name, trigger_type, trigger_config, action_type, action_config, created_at)
SELECT u.id, r.trigger_type, r.trigger_type, r.config::jsonb, 'send_whatsapp',
       jsonb_build_object('template', 'trip_reminder', 'language', 'en_US',
                          'parameters', r.parameters::jsonb),
       now() - interval '30 days'
FROM auth.users u, (VALUES
  ('trip_start', '{"days_before": 1}', '["{trip.title}"]'),
  ('trip_start', '{"days_before": 7, "send_at": "18:00"}', '["{trip.title}"]'),
  ('trip_end', '{"days_after": 1}', '["{trip.title}"]'),
  ('booking_pending', '{"hours": 48}', '["{booking.type}", "{trip.title}"]'),
  ('budget_exceeded', '{"threshold_percent": 90}', '["{budget.percent}", "{trip.title}"]')
) AS r(trigger_type, config, parameters)
""",
)

# Every (rule, trip) pair read, as many rows as planning wrote: the least work possible.
BARE_INSERT = """
INSERT INTO public.scheduled_jobs
  (user_id, automation_rule_id, trip_id, job_type, scheduled_for, dedupe_key, payload)
SELECT r.user_id, r.id, t.id, r.action_type, now(), r.id::text || ':' || t.id::text, '{}'
FROM public.automation_rules r JOIN public.trips t ON t.user_id = r.user_id
LIMIT %(rows)s
"""
BARE_REINSERT = """
INSERT INTO public.scheduled_jobs
  (user_id, automation_rule_id, trip_id, job_type, scheduled_for, dedupe_key, payload)
SELECT user_id, automation_rule_id, trip_id, job_type, scheduled_for, dedupe_key, payload
FROM public.scheduled_jobs
ON CONFLICT (dedupe_key) DO NOTHING
"""
