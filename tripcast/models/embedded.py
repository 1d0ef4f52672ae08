"""The embedded PostgreSQL used when ``TRIPCAST_DATABASE_URL`` is unset.

``pgserver`` keeps the data directory under ``TRIPCAST_HOME`` and counts the processes
that use it: the first command starts the server, later ones reuse it, and it stops when
the last one exits.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from tripcast.exceptions import EXIT_DATABASE, TripcastError

EMBEDDED_DATABASE = "tripcast"
_servers: dict[Path, Any] = {}


class EmbeddedDatabaseError(TripcastError, RuntimeError):
    """The embedded server could not be started."""

    exit_code = EXIT_DATABASE


def embedded_server(home: Path) -> Any:
    """Start (or join) the embedded server whose data lives in ``home/pgdata``."""
    pgdata = (home / "pgdata").resolve()
    if pgdata not in _servers:
        with warnings.catch_warnings():
            # platformdirs warns about XDG_RUNTIME_DIR on headless machines; harmless here.
            warnings.simplefilter("ignore")
            import pgserver

            try:
                pgdata.parent.mkdir(parents=True, exist_ok=True)
                _servers[pgdata] = pgserver.get_server(pgdata, cleanup_mode="stop")
            except Exception as error:  # pgserver raises bare exceptions from initdb/pg_ctl
                raise EmbeddedDatabaseError(
                    f"cannot start the embedded PostgreSQL in {pgdata}: {error}"
                ) from error
    return _servers[pgdata]


def embedded_url(home: Path, *, database: str = EMBEDDED_DATABASE) -> str:
    """A SQLAlchemy URL for ``database`` on the embedded server, created on first use."""
    server = embedded_server(home)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    uri: str = server.get_uri(database)
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def stop_embedded_servers() -> None:
    """Release this process's handles; the server stops when no other process holds one."""
    for server in _servers.values():
        server.cleanup()
    _servers.clear()
