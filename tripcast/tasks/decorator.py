"""``database_task``: the one Prefect task decorator of tripcast.

Every task is a database step (or publishes what one produced): never cached, its
result never persisted (each call is new work, however alike its arguments; a cached
or reloaded result would hand back an earlier run's report and skip the work), and
retried on transient failures only, on the one schedule of ``tripcast.transient``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from tripcast.transient import RETRY_DELAYS_SECONDS, RETRY_JITTER_FACTOR, is_transient

P = ParamSpec("P")
R = TypeVar("R")


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only when the failure was transient."""
    error = state.data if isinstance(state.data, BaseException) else None
    if error is None:
        try:
            state.result(raise_on_failure=True)
        except Exception as raised:
            error = raised
        else:
            return False
    return is_transient(error)


def database_task(
    name: str, *, tags: Iterable[str] | None = None
) -> Callable[[Callable[P, R]], Task[P, R]]:
    """``@task`` with tripcast's settings: no cache, no persisted result, shared retries."""
    return task(
        name=name,
        tags=tags,
        cache_policy=NO_CACHE,
        persist_result=False,
        retries=len(RETRY_DELAYS_SECONDS),
        retry_delay_seconds=list(RETRY_DELAYS_SECONDS),
        retry_jitter_factor=RETRY_JITTER_FACTOR,
        retry_condition_fn=retry_on_transient,
    )
