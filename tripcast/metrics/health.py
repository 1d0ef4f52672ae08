"""Readiness: the database answers and is at this tripcast's newest migration."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from tripcast.models import migrate

STATEMENT_TIMEOUT_MS = 2000


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str  # one line, no credentials


@lru_cache(maxsize=1)
def _head() -> str:
    return migrate.head_revision()  # reads the migration scripts: once per process


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return frozenset(revision.revision for revision in script.walk_revisions())


def check_ready(engine: Engine) -> Readiness:
    try:
        with engine.connect() as connection, connection.begin():
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            current = migrate.current_revision(connection)
    except SQLAlchemyError as error:
        return Readiness(False, f"database unreachable: {_first_line(error)}")
    if current is not None and current not in _known():
        return Readiness(
            False,
            f"database at migration {current}, unknown to this tripcast (head is {_head()}): "
            "upgrade tripcast",
        )
    if current != _head():
        return Readiness(
            False,
            f"database at migration {current or 'base'}, not {_head()}: run `tripcast db upgrade`",
        )
    return Readiness(True, f"ready: database at migration {current}")


def _first_line(error: SQLAlchemyError) -> str:
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
