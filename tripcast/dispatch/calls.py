"""How dispatch calls the database from its event loop: in worker threads, one
transaction per call, the idempotent writes again after a dropped connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from tripcast.transient import retry_transient

T = TypeVar("T")


def in_transaction(engine: Engine, work: Callable[..., T], **kwargs: Any) -> T:
    with engine.begin() as connection:
        return work(connection, **kwargs)


async def db_call(engine: Engine, work: Callable[..., T], **kwargs: Any) -> T:
    return await asyncio.to_thread(partial(in_transaction, engine, work, **kwargs))


def retrying(engine: Engine, work: Callable[..., T], **kwargs: Any) -> T:
    """Run an idempotent statement, again after a dropped connection or a deadlock.

    Used for the send-started mark and the outcome write: failing the write leaves the
    batch's sends in doubt (never re-sent, but not known either), so it tries hard.
    """
    return retry_transient(partial(in_transaction, engine, work, **kwargs))
