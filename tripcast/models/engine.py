"""Engine and sessions for the configured database (external URL or the embedded one)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from tripcast.exceptions import EXIT_DATABASE, TripcastError
from tripcast.models.embedded import embedded_url
from tripcast.settings import Settings, get_settings

T = TypeVar("T")


class DatabaseUnavailable(TripcastError, RuntimeError):
    """The database cannot be reached; the message is one line without credentials."""

    transient = True
    exit_code = EXIT_DATABASE


def sqlalchemy_url(settings: Settings) -> str:
    """The psycopg 3 URL for ``settings``: the external database or the embedded one."""
    if settings.database_url is None:
        return embedded_url(settings.home)
    raw = settings.database_url.get_secret_value()
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw.removeprefix(prefix)
    raise DatabaseUnavailable("TRIPCAST_DATABASE_URL is invalid: must be a postgresql:// URL")


def describe_url(url: str) -> str:
    """host:port/database of ``url`` for messages, never the password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unparseable URL>"
    host = parsed.host or parsed.query.get("host") or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{host}{port}/{parsed.database or ''}"


def create_db_engine(url: str, **kwargs: object) -> Engine:
    try:
        return sa.create_engine(url, pool_pre_ping=True, **kwargs)
    except ArgumentError as error:
        raise DatabaseUnavailable(f"TRIPCAST_DATABASE_URL is invalid: {error}") from None


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else "unknown error"
        raise DatabaseUnavailable(
            f"cannot connect to the database at {describe_url(str(engine.url))}: {reason}"
        ) from None


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    return create_db_engine(sqlalchemy_url(get_settings()))


def copy_rows(
    connection: sa.Connection, table: str, columns: str, rows: Iterable[Sequence[object]]
) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows`` on the connection's transaction:
    the fastest way to hand PostgreSQL a batch (used for the ingest's temporary tables)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def typed_rows(connection: sa.Connection, statement: SelectOfScalar[T]) -> list[T]:
    """The rows of a SQLModel ``select`` as typed objects, read on the caller's connection
    inside its transaction: a ``FOR UPDATE`` lock stays with that transaction, and a
    connection outside one is left outside one."""
    with Session(connection) as session:
        return list(session.exec(statement))
