"""When a task is worth retrying: transient infrastructure errors only."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import sqlalchemy.exc

from tripcast.models.engine import DatabaseUnavailable

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    psycopg.OperationalError,
    DatabaseUnavailable,
    httpx.TransportError,
    ConnectionError,
    TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, TRANSIENT_ERRORS)


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only when the failure was transient."""
    try:
        state.result()
    except Exception as error:
        return is_transient(error)
    return False


# Shared decorator settings for tasks that touch the database.
DATABASE_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [2, 10, 30],
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_on_transient,
}
