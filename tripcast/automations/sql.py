"""Every statement automations run, named and in one place, module by module.

Planning is set-based: a run validates each distinct rule configuration once in Python,
passes the valid ones in as arrays and lets SQL join them back to the rules holding them
(by the configurations' text) and on to their trips, bookings and expenses. Execution
claims due jobs under a lease and guards every later write of a job by that lease.
"""

from __future__ import annotations

# --- rules.py: active rules, one validation per distinct configuration -------------------

RULE_MATCHES_CONFIG = """
r.is_active AND r.trigger_type = c.trigger_type
AND r.trigger_config::text = c.trigger_config
AND r.action_type = c.action_type AND r.action_config::text = c.action_config"""
"""Join condition of ``public.automation_rules r`` with a ``config c`` row set."""

CONFIG_ROWS = """
SELECT * FROM unnest(%(trigger_types)s::text[], %(trigger_configs)s::text[],
                     %(action_types)s::text[], %(action_configs)s::text[])
  WITH ORDINALITY AS c(trigger_type, trigger_config, action_type, action_config, number)"""
"""The configurations passed as ``config_columns``; ``number`` is the position, from 1."""

RULES_OF_CONFIGS = f"""
WITH config AS ({CONFIG_ROWS})
SELECT r.id, r.user_id, c.trigger_type, c.trigger_config, c.action_type, c.action_config
FROM config c JOIN public.automation_rules r ON {RULE_MATCHES_CONFIG}
"""

RECORD_RULE_ERRORS = """
UPDATE public.automation_rules AS r
SET last_error = e.reason, last_error_at = %(now)s
FROM unnest(%(ids)s::uuid[], %(reasons)s::text[]) AS e(id, reason)
WHERE r.id = e.id AND r.last_error IS DISTINCT FROM e.reason
"""

CLEAR_RULE_ERRORS = f"""
WITH config AS ({CONFIG_ROWS})
UPDATE public.automation_rules AS r SET last_error = NULL, last_error_at = NULL
FROM config c
WHERE r.last_error IS NOT NULL AND {RULE_MATCHES_CONFIG}
"""


# --- planning.py: rules x subjects -> due jobs -------------------------------------------

# The active rules holding a validated configuration, matched by the configuration's
# text and staged once per run for every trigger's statement. A temporary table, analysed,
# because the planner cannot estimate a join on jsonb text with the configs' arrays and
# then picks nested loops over 100,000 rules.
STAGE_RULES_TABLE = """
CREATE TEMPORARY TABLE planning_rule (
  rule_id uuid PRIMARY KEY, user_id uuid NOT NULL, created_at timestamptz NOT NULL,
  config int NOT NULL, job_type text NOT NULL
) ON COMMIT DROP
"""

# The staged rules get statistics before the statements read them.
ANALYZE_STAGED_RULES = "ANALYZE planning_rule"

STAGE_RULES = f"""
WITH config AS ({CONFIG_ROWS})
INSERT INTO planning_rule (rule_id, user_id, created_at, config, job_type)
SELECT r.id, r.user_id, r.created_at, c.number - 1, c.action_type
FROM config c JOIN public.automation_rules r ON {RULE_MATCHES_CONFIG}
"""

# A traveller's timezone as planning uses it: their preference when PostgreSQL knows the
# name, else UTC (an unknown name must not break the statement for everyone).
TRAVELLER_ZONE = """
traveller_zone AS (
  SELECT p.user_id, z.name AS zone
  FROM public.notification_preferences p
  JOIN pg_timezone_names z ON z.name = p.timezone
)"""

INSERT_JOBS = """
INSERT INTO public.scheduled_jobs
  (user_id, automation_rule_id, trip_id, job_type, scheduled_for, dedupe_key, payload)
SELECT user_id, rule_id, trip_id, job_type, due_at, dedupe_key, payload FROM occurrence
WHERE due_at > %(not_before)s AND due_at <= %(not_after)s
ON CONFLICT (dedupe_key) DO NOTHING
"""

# Each statement starts from the staged rules of its own configurations, each carrying
# the trigger's parameters.
RULE = """
SELECT r.*, {names}
FROM planning_rule r
JOIN unnest(%(configs)s::int[], {parameters}) AS c(config, {names}) USING (config)"""

TRIP_EDGE_RULE = RULE.format(
    parameters="%(day_offsets)s::int[], %(send_at)s::time[]", names="day_offset, send_at"
)

BOOKING_RULE = RULE.format(parameters="%(hours)s::float8[]", names="hours")

BUDGET_RULE = RULE.format(parameters="%(thresholds)s::int[]", names="threshold")

# Trip edges: the trip's start (or end) date shifted by the rule's days, at the rule's
# local send time in the traveller's zone. `AT TIME ZONE` turns that wall time into an
# instant, DST included.
PLAN_TRIP_EDGE = f"""
WITH rule AS ({TRIP_EDGE_RULE}),
{TRAVELLER_ZONE},
occurrence AS (
  SELECT r.user_id, r.rule_id, t.id AS trip_id, r.job_type,
         ((t.{{date_column}} + r.day_offset) + r.send_at) AT TIME ZONE coalesce(z.zone, 'UTC')
           AS due_at,
         r.rule_id::text || ':trip:' || t.id::text || ':{{edge}}:'
           || to_char(t.{{date_column}}, 'YYYY-MM-DD') AS dedupe_key,
         jsonb_build_object('trigger', %(trigger)s::text, 'day', t.{{date_column}}) AS payload
  FROM rule r
  JOIN public.trips t ON t.user_id = r.user_id
  LEFT JOIN traveller_zone z ON z.user_id = r.user_id
  WHERE t.{{date_column}} BETWEEN %(first_day)s::date - r.day_offset
                            AND %(last_day)s::date - r.day_offset
)
{INSERT_JOBS}"""

PLAN_BOOKING_PENDING = f"""
WITH rule AS ({BOOKING_RULE}),
occurrence AS (
  SELECT r.user_id, r.rule_id, b.trip_id, r.job_type,
         b.created_at + make_interval(secs => r.hours * 3600) AS due_at,
         r.rule_id::text || ':booking:' || b.id::text AS dedupe_key,
         jsonb_build_object('trigger', 'booking_pending', 'booking_id', b.id) AS payload
  FROM rule r
  JOIN public.bookings b ON b.user_id = r.user_id AND b.status = 'pending'
)
{INSERT_JOBS}"""

# Budget alerts are due as soon as spending reaches the threshold; one per trip and
# threshold, however often spending crosses it.
PLAN_BUDGET_EXCEEDED = f"""
WITH rule AS ({BUDGET_RULE}),
spending AS (
  SELECT e.trip_id, sum(e.amount) AS spent
  FROM public.expenses e
  JOIN public.trips t ON t.id = e.trip_id
  WHERE t.user_id IN (SELECT user_id FROM rule) AND t.budget_amount > 0
  GROUP BY e.trip_id
),
occurrence AS (
  SELECT r.user_id, r.rule_id, t.id AS trip_id, r.job_type,
         %(now)s::timestamptz AS due_at,
         r.rule_id::text || ':budget:' || t.id::text || ':' || r.threshold AS dedupe_key,
         jsonb_build_object('trigger', 'budget_exceeded', 'threshold', r.threshold,
                            'spent', s.spent, 'budget', t.budget_amount) AS payload
  FROM rule r
  JOIN public.trips t ON t.user_id = r.user_id AND t.budget_amount > 0
  JOIN spending s ON s.trip_id = t.id
  WHERE s.spent * 100 >= t.budget_amount * r.threshold
)
{INSERT_JOBS}"""

# Cron ticks are computed once per configuration in Python; a rule takes the ticks of its
# configuration that come after it was created. The key is ``occurrences.tick_key``.
PLAN_TICKS = f"""
WITH tick AS (
  SELECT * FROM unnest(%(tick_configs)s::int[], %(ticks)s::timestamptz[], %(tick_texts)s::text[])
    AS t(config, at, text)
),
occurrence AS (
  SELECT r.user_id, r.rule_id, NULL::uuid AS trip_id, r.job_type,
         t.at AS due_at,
         r.rule_id::text || ':tick:'
           || to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS dedupe_key,
         jsonb_build_object('trigger', 'schedule', 'tick', t.text) AS payload
  FROM planning_rule r JOIN tick t USING (config)
  WHERE t.at > r.created_at
)
{INSERT_JOBS}"""


# --- claims.py: claiming due jobs, recording outcomes ------------------------------------

CLAIM_DUE_JOBS = """
WITH due AS (
  SELECT id FROM public.scheduled_jobs
  WHERE scheduled_for <= %(now)s
    AND (status = 'pending' OR (status = 'running' AND lease_expires_at < %(now)s))
  ORDER BY scheduled_for
  LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED
)
UPDATE public.scheduled_jobs AS j
SET status = 'running', executed_at = %(now)s, lease_owner = %(owner)s,
    lease_expires_at = %(lease_until)s, attempts = coalesce(j.attempts, 0) + 1
FROM due WHERE j.id = due.id
RETURNING j.id
"""

FINISH_JOBS = """
UPDATE public.scheduled_jobs AS j
SET status = o.status, result = o.result, error_message = o.error_message,
    scheduled_for = coalesce(o.scheduled_for, j.scheduled_for),
    lease_owner = NULL, lease_expires_at = NULL
FROM unnest(%(ids)s::uuid[], %(statuses)s::text[], %(results)s::jsonb[],
            %(errors)s::text[], %(scheduled_for)s::timestamptz[])
  AS o(id, status, result, error_message, scheduled_for)
WHERE j.id = o.id AND j.status = 'running' AND j.lease_owner = %(owner)s
RETURNING j.id
"""

TOUCH_RULES = """
UPDATE public.automation_rules SET last_triggered_at = %(now)s
WHERE id = ANY(%(ids)s::uuid[])
  AND (last_triggered_at IS NULL OR last_triggered_at < %(now)s)
"""


# --- context.py: everything a claimed job needs ------------------------------------------

JOB_CONTEXT = """
SELECT j.id AS job_id, j.user_id, j.automation_rule_id AS rule_id, j.trip_id, j.job_type,
       j.dedupe_key, j.payload, j.attempts, j.result, j.scheduled_for,
       r.is_active AS rule_active, r.trigger_type, r.trigger_config, r.action_type,
       r.action_config,
       t.id AS t_id, t.title AS t_title, t.destination AS t_destination,
       t.start_date AS t_start_date, t.end_date AS t_end_date, t.status AS t_status,
       t.budget_amount AS t_budget, t.currency AS t_currency,
       b.id AS b_id, b.booking_type AS b_type, b.status AS b_status,
       b.reference AS b_reference, b.created_at AS b_created_at,
       (SELECT sum(e.amount) FROM public.expenses e WHERE e.trip_id = j.trip_id) AS spent,
       a.id AS a_id, a.phone_number AS a_phone_number, a.is_verified AS a_is_verified,
       a.opt_in_status AS a_opt_in_status, a.last_inbound_at AS a_last_inbound_at,
       p.trip_reminders, p.booking_confirmations, p.itinerary_updates, p.budget_alerts,
       p.ai_suggestions, p.collaborator_updates, p.marketing, p.quiet_hours_enabled,
       p.quiet_hours_start, p.quiet_hours_end, p.timezone, p.id AS p_id,
       u.email
FROM public.scheduled_jobs j
LEFT JOIN public.automation_rules r ON r.id = j.automation_rule_id
LEFT JOIN public.trips t ON t.id = j.trip_id
LEFT JOIN public.bookings b ON b.id = (j.payload ->> 'booking_id')::uuid
LEFT JOIN public.whatsapp_accounts a ON a.user_id = j.user_id
LEFT JOIN public.notification_preferences p ON p.user_id = j.user_id
LEFT JOIN auth.users u ON u.id = j.user_id
WHERE j.id = ANY(%(ids)s::uuid[])
"""


# --- execution.py: an email in flight ----------------------------------------------------

MARK_EMAIL_IN_FLIGHT = """
UPDATE public.scheduled_jobs SET result = %(result)s::jsonb
WHERE id = %(id)s AND lease_owner = %(owner)s
"""


# --- actions.py: the update_trip action --------------------------------------------------

UPDATE_TRIP = """
UPDATE public.trips
SET status = coalesce(%(status)s, status),
    notes = coalesce(%(notes)s, notes),
    metadata = coalesce(metadata, '{}'::jsonb) || coalesce(%(metadata)s::jsonb, '{}'::jsonb),
    updated_at = %(now)s
WHERE id = %(trip_id)s
"""
