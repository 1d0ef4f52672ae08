"""What a transient failure is, and how long to wait before trying again: one policy for
every database step, whether Prefect retries a task or a process retries a statement.

Plain Python (no Prefect): ``tripcast.tasks.decorator.database_task`` puts it on the task
decorators, ``retry_transient`` applies it in-process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx
import psycopg
import sqlalchemy.exc

from tripcast.exceptions import TripcastError
from tripcast.models.engine import DatabaseUnavailable

T = TypeVar("T")

# Seconds to wait before each retry: a restarting server or a failover takes seconds, a
# deadlock or serialization failure clears at once. len() is the number of retries.
RETRY_DELAYS_SECONDS: tuple[float, ...] = (2.0, 10.0, 30.0)
# Prefect spreads each delay by up to this fraction so that runs failing together do not
# all come back in the same instant.
RETRY_JITTER_FACTOR = 0.5

# Connection lost or refused, server restarting, deadlock, serialization failure (the
# last two are OperationalErrors in psycopg and SQLAlchemy).
_DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    DatabaseUnavailable,
)
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    httpx.TransportError,
    ConnectionError,
    TimeoutError,
)


def is_transient_database_error(error: BaseException) -> bool:
    """Whether the same database work may succeed if tried again as is."""
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, _DATABASE_ERRORS)


def is_transient(error: BaseException) -> bool:
    """Whether a failed step is worth retrying: a transient database error, the network,
    or one of tripcast's errors that says so (a Cloud API that did not answer)."""
    if isinstance(error, TripcastError):
        return error.transient
    return is_transient_database_error(error) or isinstance(error, _NETWORK_ERRORS)


def retry_transient(
    work: Callable[[], T],
    *,
    delays: tuple[float, ...] = RETRY_DELAYS_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``work()``, again after each transient database error while ``delays`` last."""
    for delay in delays:
        try:
            return work()
        except Exception as error:
            if not is_transient_database_error(error):
                raise
        sleep(delay)
    return work()
