"""Alembic: head matches the models, downgrade/upgrade round-trips, bad states fail clearly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.databases import DatabaseFactory
from tripcast.models import SEED_TABLES, migrate
from tripcast.models.engine import create_db_engine


def test_head_has_no_autogenerate_diff(engine: Engine) -> None:
    with engine.connect() as connection:
        assert migrate.current_revision(connection) == migrate.head_revision()
        assert migrate.schema_diff(connection) == []


def test_autogenerate_diff_sees_drift(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE scheduled_jobs DROP COLUMN lease_owner")
        connection.exec_driver_sql("CREATE INDEX idx_stray ON delivery_logs(recipient)")
        diff = migrate.schema_diff(connection)
    described = repr(diff)
    assert "lease_owner" in described
    assert "idx_stray" in described


def test_downgrade_base_then_upgrade_head(engine: Engine) -> None:
    migrate.downgrade(engine, "base")
    with engine.connect() as connection:
        assert migrate.current_revision(connection) is None
        remaining = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_tables WHERE tablename = ANY(%(t)s)", {"t": list(SEED_TABLES)}
        ).scalar()
        assert remaining == 0
        assert connection.exec_driver_sql("SELECT to_regclass('auth.users')").scalar() is None
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert migrate.current_revision(connection) == migrate.head_revision()
        assert migrate.schema_diff(connection) == []


def test_unknown_revision_is_refused_and_changes_nothing(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00dcafe'")
    with pytest.raises(migrate.UnknownRevision, match="f00dcafe, unknown to this tripcast"):
        migrate.upgrade(engine)
    with pytest.raises(migrate.UnknownRevision):
        migrate.downgrade(engine, "base")
    with engine.connect() as connection:
        assert migrate.current_revision(connection) == "f00dcafe"


def test_failed_upgrade_is_rolled_back_whole(database_factory: DatabaseFactory) -> None:
    name = "tripcast_half_applied"
    database_factory.drop(name)
    engine = create_db_engine(database_factory.create(name), poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            # A table in the way makes revision 0002 fail after 0001 already ran.
            connection.exec_driver_sql("CREATE TABLE public.delivery_logs (id int)")
        with pytest.raises(sa.exc.ProgrammingError, match="delivery_logs"):
            migrate.upgrade(engine)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT to_regclass('auth.users')").scalar() is None
            assert (
                connection.exec_driver_sql("SELECT to_regclass('alembic_version')").scalar() is None
            )
    finally:
        engine.dispose()
        database_factory.drop(name)


def test_existing_supabase_objects_are_left_alone(database_factory: DatabaseFactory) -> None:
    name = "tripcast_on_supabase"
    database_factory.drop(name)
    engine = create_db_engine(database_factory.create(name), poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY, aud text);"
                "CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS "
                "$$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;"
                "CREATE TABLE public.trips (id uuid PRIMARY KEY, owner uuid, name text);"
            )
        migrate.upgrade(engine)
        migrate.downgrade(engine, "base")
        with engine.connect() as connection:
            columns = connection.exec_driver_sql(
                "SELECT array_agg(column_name::text ORDER BY column_name) FROM "
                "information_schema.columns WHERE table_name = 'trips'"
            ).scalar()
            assert columns == ["id", "name", "owner"]
            assert connection.exec_driver_sql("SELECT to_regclass('auth.users')").scalar()
    finally:
        engine.dispose()
        database_factory.drop(name)
