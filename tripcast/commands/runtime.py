"""What every command that runs flows needs: a migrated database and a Prefect home."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Engine

from tripcast.exceptions import EXIT_DATABASE, TripcastError
from tripcast.settings import get_settings

T = TypeVar("T")


class NotMigrated(TripcastError, RuntimeError):
    """The database is not at the newest migration."""

    exit_code = EXIT_DATABASE


def prepare_prefect_home(home: Path | None = None) -> None:
    """Keep Prefect's local state under TRIPCAST_HOME unless the user chose a home."""
    if "PREFECT_HOME" not in os.environ:
        home = home or get_settings().home.resolve() / "prefect"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(home)
    # A local temporary Prefect server would try to phone home with usage telemetry.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # A temporary server on a fresh home first migrates its SQLite database, which takes
    # longer than Prefect's 20 s default on a small busy machine: the run would fail
    # before it began.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def migrated_engine() -> Engine:
    from tripcast.models import migrate
    from tripcast.models.engine import check_connection, get_engine

    engine = get_engine()
    check_connection(engine)
    with engine.connect() as connection:
        current = migrate.check_known_revision(connection)
    if current != migrate.head_revision():
        raise NotMigrated(
            f"the database is at migration {current or 'base'}, not "
            f"{migrate.head_revision()}: run `tripcast db upgrade` first"
        )
    return engine


def parse_now(text: str | None) -> datetime | None:
    """``--now`` as an aware instant (a trailing Z is accepted)."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"--now must carry a timezone (e.g. {text}Z), got {text!r}")
    return moment


def run_flow(call: Callable[[], T], *, what: str) -> T | None:
    """The value a flow run returned, or ``None`` after one line on stderr if it did not
    complete.

    The value comes from the call, never from ``return_state=True``'s ``state.result()``:
    when the client retries a completion whose first answer was lost, the API rejects the
    duplicate and hands back its own copy of the state, which carries no data unless the
    result was persisted (Prefect's ``MissingResult``)."""
    try:
        return call()
    except Exception as error:  # the flow run failed, crashed or was cancelled
        print(f"tripcast: {what} failed: {error or type(error).__name__}", file=sys.stderr)
        return None
