"""One retry policy: what a transient failure is, the one delay schedule, and every
Prefect task of the code base decorated with it (no cache, no persisted result)."""

from __future__ import annotations

import httpx
import psycopg
import pytest
import sqlalchemy.exc as sa_exc
from prefect import Task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from tests.support.package import tripcast_modules
from tripcast.automations.actions import TransientActionError
from tripcast.dispatch.run_report import DispatchReport
from tripcast.dispatch.stopped import DispatchStopped
from tripcast.models.engine import DatabaseUnavailable
from tripcast.tasks.decorator import retry_on_transient
from tripcast.transient import (
    RETRY_DELAYS_SECONDS,
    is_transient,
    is_transient_database_error,
    retry_transient,
)
from tripcast.whatsapp.api_errors import AuthError, ServerError


def wrapped(orig: Exception, kind: type[sa_exc.DBAPIError] = sa_exc.OperationalError) -> Exception:
    return kind("UPDATE whatsapp_messages", {}, orig)


# (error, transient database error, worth retrying a step)
CASES = [
    ("connection-lost", wrapped(Exception("server closed the connection")), True, True),
    ("deadlock", wrapped(psycopg.errors.DeadlockDetected("deadlock detected")), True, True),
    ("serialization", psycopg.errors.SerializationFailure("could not serialize"), True, True),
    ("interface", wrapped(Exception("cursor already closed"), sa_exc.InterfaceError), True, True),
    ("raw-psycopg", psycopg.OperationalError("connection refused"), True, True),
    ("unreachable", DatabaseUnavailable("cannot connect to the database"), True, True),
    (
        "invalidated",
        sa_exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
        True,
        True,
    ),
    ("integrity", wrapped(Exception("duplicate key"), sa_exc.IntegrityError), False, False),
    ("unique", psycopg.errors.UniqueViolation("duplicate key"), False, False),
    ("bug", ValueError("a bug"), False, False),
    ("reset", ConnectionResetError("reset by peer"), False, True),
    ("http-transport", httpx.ConnectError("connection refused"), False, True),
    ("cloud-api-down", ServerError("Service unavailable", http_status=503), False, True),
    ("service-away", TransientActionError("the service is unreachable"), False, True),
    ("token-expired", AuthError("Error validating access token", code=190), False, False),
    (
        "stopped",
        DispatchStopped(AuthError("expired", code=190), report=DispatchReport(), left_pending=1),
        False,
        False,
    ),
]


@pytest.mark.parametrize(
    ("error", "database", "step"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_what_is_transient(error: Exception, database: bool, step: bool) -> None:
    assert is_transient_database_error(error) is database
    assert is_transient(error) is step
    assert retry_on_transient(None, None, Failed(data=error)) is step


def test_in_process_retries_wait_the_shared_schedule_then_succeed() -> None:
    failures = [wrapped(Exception("server closed the connection"))] * 2
    waited: list[float] = []

    def work() -> str:
        if failures:
            raise failures.pop()
        return "written"

    assert retry_transient(work, sleep=waited.append) == "written"
    assert waited == list(RETRY_DELAYS_SECONDS[:2])


def test_in_process_retries_give_up_after_the_schedule_and_never_retry_a_bug() -> None:
    waited: list[float] = []
    calls: list[int] = []

    def lost() -> None:
        calls.append(1)
        raise wrapped(Exception("server closed the connection"))

    with pytest.raises(sa_exc.OperationalError):
        retry_transient(lost, sleep=waited.append)
    assert (len(calls), waited) == (len(RETRY_DELAYS_SECONDS) + 1, list(RETRY_DELAYS_SECONDS))

    def bug() -> None:
        raise ValueError("a bug")

    waited.clear()
    with pytest.raises(ValueError):
        retry_transient(bug, sleep=waited.append)
    assert waited == []


def all_tasks() -> dict[str, Task[..., object]]:
    found: dict[str, Task[..., object]] = {}
    for module in tripcast_modules():
        for value in vars(module).values():
            if isinstance(value, Task):
                found[value.name] = value
    return found


def test_every_task_is_uncached_unpersisted_and_on_the_shared_retry_policy() -> None:
    tasks = all_tasks()
    assert {"apply-webhook-batch", "dispatch-batch", "sync-template-catalog"} <= set(tasks)
    assert len(tasks) >= 17
    for name, task in tasks.items():
        policy = (
            task.cache_policy,
            task.persist_result,
            task.retries,
            task.retry_delay_seconds,
            task.retry_condition_fn,
        )
        expected = (NO_CACHE, False, 3, list(RETRY_DELAYS_SECONDS), retry_on_transient)
        assert policy == expected, name
