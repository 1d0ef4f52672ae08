"""Alembic environment: compares against ``SQLModel.metadata`` minus the stand-in tables."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel

import tripcast.models  # noqa: F401  (registers every table on SQLModel.metadata)
from tripcast.models.engine import create_db_engine
from tripcast.models.migrate import include_object

target_metadata = SQLModel.metadata


def run_migrations(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = create_db_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as new_connection:
        run_migrations(new_connection)


if context.is_offline_mode():
    raise SystemExit("tripcast migrations run online only")
main()
