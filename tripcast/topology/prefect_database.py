"""Where the stack's Prefect server keeps its state.

Prefect's server on PostgreSQL needs the ``pg_trgm`` extension. The stack gives it a
database ``prefect`` on the PostgreSQL server tripcast uses when that server offers
the extension; the embedded PostgreSQL does not, so with it the stack's Prefect server
keeps its default SQLite file (enough to try the topology on one machine, not to run
several machines). ``PREFECT_API_DATABASE_CONNECTION_URL`` set by the operator wins.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

PREFECT_DATABASE = "prefect"
DATABASE_URL_ENV = "PREFECT_API_DATABASE_CONNECTION_URL"


def has_trigram_extension(engine: Engine) -> bool:
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
        ).first()
    return found is not None


def ensure_database(engine: Engine, name: str = PREFECT_DATABASE) -> None:
    """CREATE DATABASE ``name`` on ``engine``'s server unless it exists."""
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if exists is None:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')


def asyncpg_url(engine: Engine, database: str = PREFECT_DATABASE) -> str:
    url = make_url(str(engine.url.render_as_string(hide_password=False)))
    return url.set(drivername="postgresql+asyncpg", database=database).render_as_string(
        hide_password=False
    )


def prefect_database_url(engine: Engine) -> tuple[str | None, str]:
    """The URL for ``PREFECT_API_DATABASE_CONNECTION_URL`` (None: SQLite) and why."""
    if os.environ.get(DATABASE_URL_ENV):
        return os.environ[DATABASE_URL_ENV], f"{DATABASE_URL_ENV} as set"
    if not has_trigram_extension(engine):
        return None, (
            "SQLite in the stack's Prefect home: tripcast's PostgreSQL has no pg_trgm "
            f"extension, which Prefect's server needs (set {DATABASE_URL_ENV} for PostgreSQL)"
        )
    ensure_database(engine)
    return asyncpg_url(engine), f"database {PREFECT_DATABASE!r} on tripcast's PostgreSQL"
