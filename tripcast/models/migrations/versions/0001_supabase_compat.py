"""Supabase compatibility layer and Stage 1 stand-ins (standalone mode only).

Against a real Supabase project ``auth.users``, the roles, ``auth.uid()`` and Stage 1's
``public.trips`` / bookings / expenses already exist and nothing here touches them. On a
plain PostgreSQL server this creates minimal compatible stand-ins, each marked with the
comment ``tripcast stand-in`` so the downgrade removes only what it created. Roles are
cluster-wide and shared by every database on the server, so the downgrade keeps them.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STAND_IN = "tripcast stand-in"

ROLES = """
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
END $$;
"""

AUTH = f"""
CREATE SCHEMA auth;
COMMENT ON SCHEMA auth IS '{STAND_IN}';
CREATE TABLE auth.users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text,
  phone text,
  created_at timestamptz DEFAULT now()
);
COMMENT ON TABLE auth.users IS '{STAND_IN}';
-- Resolves like Supabase's auth.uid(): the legacy per-claim setting first, then the
-- JSON claims object PostgREST sets for each request.
CREATE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE
AS $fn$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$fn$;
CREATE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE
AS $fn$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$fn$;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role() TO anon, authenticated, service_role;
"""

TRIPS = f"""
CREATE TABLE public.trips (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL CONSTRAINT trips_user_id_fkey REFERENCES auth.users(id) ON DELETE CASCADE,
  title text NOT NULL,
  destination text,
  start_date date,
  end_date date,
  status text DEFAULT 'planning'::text,
  budget_amount numeric(12, 2),
  currency text DEFAULT 'EUR'::text,
  notes text,
  metadata jsonb DEFAULT '{{}}'::jsonb,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now()
);
CREATE INDEX idx_trips_user_id ON public.trips(user_id);
CREATE INDEX idx_trips_start_date ON public.trips(start_date);
COMMENT ON TABLE public.trips IS '{STAND_IN}';
"""

BOOKINGS = f"""
CREATE TABLE public.bookings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  trip_id uuid NOT NULL CONSTRAINT bookings_trip_id_fkey REFERENCES public.trips(id) ON DELETE CASCADE,
  user_id uuid NOT NULL CONSTRAINT bookings_user_id_fkey REFERENCES auth.users(id) ON DELETE CASCADE,
  booking_type text NOT NULL DEFAULT 'other'::text,
  status text NOT NULL DEFAULT 'pending'::text,
  reference text,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now()
);
CREATE INDEX idx_bookings_pending ON public.bookings(created_at) WHERE status = 'pending';
COMMENT ON TABLE public.bookings IS '{STAND_IN}';
"""

EXPENSES = f"""
CREATE TABLE public.expenses (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  trip_id uuid NOT NULL CONSTRAINT expenses_trip_id_fkey REFERENCES public.trips(id) ON DELETE CASCADE,
  user_id uuid NOT NULL CONSTRAINT expenses_user_id_fkey REFERENCES auth.users(id) ON DELETE CASCADE,
  amount numeric(12, 2) NOT NULL,
  category text,
  description text,
  spent_at timestamptz DEFAULT now(),
  created_at timestamptz DEFAULT now()
);
CREATE INDEX idx_expenses_trip_id ON public.expenses(trip_id);
COMMENT ON TABLE public.expenses IS '{STAND_IN}';
"""


def _missing(relation: str) -> bool:
    found = op.get_bind().exec_driver_sql(f"SELECT to_regclass('{relation}')").scalar()
    return found is None


def upgrade() -> None:
    op.execute(ROLES)
    if _missing("auth.users"):
        op.execute(AUTH)
    if _missing("public.trips"):
        op.execute(TRIPS)
    if _missing("public.bookings"):
        op.execute(BOOKINGS)
    if _missing("public.expenses"):
        op.execute(EXPENSES)


def _created_here(relation: str) -> bool:
    sql = f"SELECT obj_description(to_regclass('{relation}'), 'pg_class') = '{STAND_IN}'"
    return bool(op.get_bind().exec_driver_sql(sql).scalar())


def downgrade() -> None:
    for table in ("public.expenses", "public.bookings", "public.trips"):
        if _created_here(table):
            op.execute(f"DROP TABLE {table}")
    schema_comment = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = 'auth'"
        )
        .scalar()
    )
    if schema_comment == STAND_IN:
        op.execute("DROP SCHEMA auth CASCADE")
