"""The ``tripcast`` command line. Each command fails with one clear line and a non-zero exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from tripcast.models.embedded import EmbeddedDatabaseError
from tripcast.models.engine import DatabaseUnavailable
from tripcast.models.migrate import UnknownRevision
from tripcast.settings import ConfigError

EXIT_CONFIG = 2
EXIT_DATABASE = 3

Handler = Callable[[argparse.Namespace], int]


def _db_upgrade(args: argparse.Namespace) -> int:
    from tripcast.models import migrate
    from tripcast.models.engine import check_connection, get_engine

    engine = get_engine()
    check_connection(engine)
    migrate.upgrade(engine, args.revision)
    with engine.connect() as connection:
        print(f"database at migration {migrate.current_revision(connection)}")
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    from tripcast.models import migrate
    from tripcast.models.engine import check_connection, get_engine

    engine = get_engine()
    check_connection(engine)
    migrate.downgrade(engine, args.revision)
    with engine.connect() as connection:
        print(f"database at migration {migrate.current_revision(connection) or 'base'}")
    return 0


def _db_current(args: argparse.Namespace) -> int:
    from tripcast.models import migrate
    from tripcast.models.engine import check_connection, get_engine

    engine = get_engine()
    check_connection(engine)
    with engine.connect() as connection:
        current = migrate.check_known_revision(connection)
    head = migrate.head_revision()
    state = "up to date" if current == head else f"behind head {head}"
    print(f"database at migration {current or 'base'} ({state})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tripcast", description="WhatsApp notifications and automations for travel products"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="database migrations").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    upgrade = db.add_parser("upgrade", help="apply migrations (default: to head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_db_upgrade)
    downgrade = db.add_parser("downgrade", help="revert migrations to REVISION ('base': all)")
    downgrade.add_argument("revision")
    downgrade.set_defaults(handler=_db_downgrade)
    db.add_parser("current", help="show the database's migration").set_defaults(handler=_db_current)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as error:
        print(f"tripcast: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except (DatabaseUnavailable, EmbeddedDatabaseError, UnknownRevision) as error:
        print(f"tripcast: {error}", file=sys.stderr)
        return EXIT_DATABASE


if __name__ == "__main__":
    raise SystemExit(main())
