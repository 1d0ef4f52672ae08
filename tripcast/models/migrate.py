"""Programmatic Alembic: upgrade, downgrade and revision checks for the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from tripcast.exceptions import EXIT_DATABASE, TripcastError

MIGRATIONS = Path(__file__).parent / "migrations"


class UnknownRevision(TripcastError, RuntimeError):
    """The database is at a migration this version of tripcast does not know."""

    exit_code = EXIT_DATABASE


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def check_known_revision(connection: Connection) -> str | None:
    current = current_revision(connection)
    script = ScriptDirectory.from_config(alembic_config())
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise UnknownRevision(
            f"the database is at migration {current}, unknown to this tripcast "
            f"(head is {head_revision()}); upgrade tripcast or point at another database"
        )
    return current


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` in one transaction: all or nothing."""
    with engine.begin() as connection:
        check_known_revision(connection)
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        check_known_revision(connection)
        command.downgrade(alembic_config(connection), revision)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: compare tripcast's tables, never the stand-ins or foreign tables."""
    # Stand-ins for Supabase/Stage 1 tables are created conditionally by the first
    # migration and belong to another stage when Supabase is the target.
    table = obj if type_ == "table" else getattr(obj, "table", None)
    if table is not None and table.info.get("tripcast_stand_in"):
        return False
    if type_ == "table" and reflected and compare_to is None:
        return name in SQLModel.metadata.tables
    return True


def schema_diff(connection: Connection) -> list[Any]:
    """What autogenerate would change: empty when the database matches the models."""
    import tripcast.models  # noqa: F401  (registers every table)

    context = MigrationContext.configure(
        connection,
        opts={
            "include_object": include_object,
            "compare_type": True,
            "compare_server_default": True,
        },
    )
    return list(compare_metadata(context, SQLModel.metadata))
