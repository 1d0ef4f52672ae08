"""``tripcast db upgrade | downgrade | current``."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy.engine import Engine


def _checked_engine() -> Engine:
    from tripcast.models.engine import check_connection, get_engine

    engine = get_engine()
    check_connection(engine)
    return engine


def _upgrade(args: argparse.Namespace) -> int:
    from tripcast.models import migrate

    engine = _checked_engine()
    migrate.upgrade(engine, args.revision)
    with engine.connect() as connection:
        print(f"database at migration {migrate.current_revision(connection)}")
    return 0


def _downgrade(args: argparse.Namespace) -> int:
    from tripcast.models import migrate

    engine = _checked_engine()
    migrate.downgrade(engine, args.revision)
    with engine.connect() as connection:
        print(f"database at migration {migrate.current_revision(connection) or 'base'}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from tripcast.models import migrate

    engine = _checked_engine()
    with engine.connect() as connection:
        current = migrate.check_known_revision(connection)
    head = migrate.head_revision()
    state = "up to date" if current == head else f"behind head {head}"
    print(f"database at migration {current or 'base'} ({state})")
    return 0


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="database migrations").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    upgrade = db.add_parser("upgrade", help="apply migrations (default: to head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_upgrade)
    downgrade = db.add_parser("downgrade", help="revert migrations to REVISION ('base': all)")
    downgrade.add_argument("revision")
    downgrade.set_defaults(handler=_downgrade)
    current = db.add_parser("current", help="show the database's migration")
    current.set_defaults(handler=_current)
