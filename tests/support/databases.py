"""Test databases: one server per session, a migrated template, a fresh clone per test.

The server is the embedded one (pgserver) unless ``TRIPCAST_TEST_DATABASE_URL`` names an
external PostgreSQL; either way every test gets its own database cloned from a template
that was migrated once, so tests are isolated and cheap (a clone is a file copy).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from tripcast.models import migrate
from tripcast.models.engine import create_db_engine

TEST_DATABASE_ENV = "TRIPCAST_TEST_DATABASE_URL"


def admin_url(tmp_home: Path) -> str:
    """A URL to a maintenance database on the test server (where CREATE DATABASE runs)."""
    external = os.environ.get(TEST_DATABASE_ENV)
    if external:
        return external.replace("postgresql://", "postgresql+psycopg://", 1)
    from tripcast.models.embedded import embedded_server

    uri: str = embedded_server(tmp_home).get_uri("postgres")
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def url_for(admin: str, database: str) -> str:
    return make_url(admin).set(database=database).render_as_string(hide_password=False)


class DatabaseFactory:
    """Creates databases on the test server; autocommit because CREATE DATABASE needs it."""

    def __init__(self, admin: str) -> None:
        self.admin = admin
        self._engine = create_db_engine(admin, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)

    def create(self, name: str, *, template: str | None = None) -> str:
        clause = f' TEMPLATE "{template}"' if template else ""
        with self._engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
        return url_for(self.admin, name)

    def drop(self, name: str) -> None:
        with self._engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def migrated_template(self) -> str:
        name = f"tripcast_template_{uuid.uuid4().hex[:8]}"
        engine = create_db_engine(self.create(name), poolclass=sa.NullPool)
        migrate.upgrade(engine)
        engine.dispose()
        return name

    @contextmanager
    def clone(self, template: str) -> Iterator[Engine]:
        name = f"tripcast_test_{uuid.uuid4().hex[:12]}"
        engine = create_db_engine(self.create(name, template=template))
        try:
            yield engine
        finally:
            engine.dispose()
            self.drop(name)

    def close(self) -> None:
        self._engine.dispose()
