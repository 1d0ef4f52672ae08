"""Scratch databases for the benchmarks, never the user's data.

On the embedded server (``TRIPCAST_DATABASE_URL`` unset) the bench uses a database of its
own, ``tripcast_bench``, under ``TRIPCAST_HOME``. On the server of
``TRIPCAST_DATABASE_URL`` it creates ``tripcast_bench_<random>`` beside the user's
database, and drops it at the end: the user's database is only connected to, to run
``CREATE DATABASE`` / ``DROP DATABASE``. A role that may not create databases is refused
with one line.

A run migrates one template database, then every benchmark gets a fresh clone of it (a
file copy), so one benchmark's rows never skew another's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from tripcast.exceptions import TripcastError
from tripcast.models import migrate
from tripcast.models.engine import create_db_engine, sqlalchemy_url
from tripcast.settings import Settings

EMBEDDED_NAME = "tripcast_bench"


class BenchRefused(TripcastError, RuntimeError):
    """The bench cannot get a scratch database; the message is one line, no credentials."""


class ScratchServer:
    """Creates, clones and drops the bench's databases on one server."""

    def __init__(self, admin_url: str, *, name: str, external: bool) -> None:
        self.admin_url = admin_url
        self.name = name
        self.template = f"{name}_template"
        self.external = external
        self._admin = create_db_engine(
            admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ScratchServer:
        if settings.database_url is None:
            from tripcast.models.embedded import embedded_server

            uri = str(embedded_server(settings.home).get_uri("postgres"))
            admin = uri.replace("postgresql://", "postgresql+psycopg://", 1)
            return cls(admin, name=EMBEDDED_NAME, external=False)
        name = f"{EMBEDDED_NAME}_{uuid.uuid4().hex[:8]}"
        return cls(sqlalchemy_url(settings), name=name, external=True)

    def describe(self) -> str:
        """Which server, never where it is (no host, no socket directory, no credentials)."""
        kind = "the server of TRIPCAST_DATABASE_URL" if self.external else "the embedded server"
        return f"scratch database {self.name} on {kind}"

    def url(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def prepare(self) -> None:
        """(Re)create the migrated template every benchmark is cloned from."""
        self._drop(self.template)
        self._create(self.template)
        engine = create_db_engine(self.url(self.template), poolclass=sa.NullPool)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()

    @contextmanager
    def fresh(self, *, pool_size: int = 10) -> Iterator[Engine]:
        """A new database cloned from the template, for one benchmark."""
        self._drop(self.name)
        self._create(self.name, template=self.template)
        engine = create_db_engine(self.url(self.name), pool_size=pool_size)
        try:
            yield engine
        finally:
            engine.dispose()

    def close(self, *, keep: bool = False) -> None:
        """Drop the template, and the last clone unless ``keep`` (embedded server only)."""
        self._drop(self.template)
        if self.external or not keep:
            self._drop(self.name)
        self._admin.dispose()

    def _create(self, name: str, *, template: str | None = None) -> None:
        clause = f' TEMPLATE "{template}"' if template else ""
        try:
            with self._admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) == "42501":  # insufficient_privilege
                raise BenchRefused(
                    "the role of TRIPCAST_DATABASE_URL may not create databases; the bench "
                    "only writes to a scratch database it creates and drops, never to yours: "
                    "grant CREATEDB, or unset TRIPCAST_DATABASE_URL to use the embedded server"
                ) from None
            raise

    def _drop(self, name: str) -> None:
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
