"""Durable storage of a delivery from inside the receiver: one statement, committed.

A small pool of async psycopg connections in autocommit mode: the one INSERT (with
``ON CONFLICT (body_sha256) DO NOTHING``, so Meta's re-deliveries are stored once) is
committed when the statement returns, which is before the receiver answers 200. The
same statement announces the new delivery on ``tripcast_webhook_deliveries`` so an
ingest loop that LISTENs applies it at once.

A connection that failed is closed, never reused. A pooled connection can be dead
without knowing it (the server restarted, an idle backend was terminated): a failure
on a reused connection is retried once on a fresh one; anything else is
``StoreUnavailable``, which the receiver answers with 503 so Meta delivers again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

import psycopg
from sqlalchemy.engine import make_url

from tripcast.exceptions import EXIT_CONFIG, EXIT_DATABASE, TripcastError
from tripcast.webhooks import sql

CHANNEL = sql.DELIVERIES_CHANNEL


class StoreUnavailable(TripcastError, RuntimeError):
    """The database did not take the delivery; the message is one line, no credentials."""

    transient = True
    exit_code = EXIT_DATABASE


class Unstorable(TripcastError, ValueError):
    """The body is JSON PostgreSQL refuses (``Infinity``, ``NaN``, ``1e999999``): the
    same body would be refused again, so the receiver answers 400, not 503."""

    exit_code = EXIT_CONFIG


# A JSON escape \u0000 is a real NUL only when the backslash before the u is not itself
# escaped, i.e. preceded by an even number of backslashes; "\\u0000" in JSON is the six
# characters a traveller typed and stays as it is.
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def replace_nul_escapes(body: str) -> str:
    """``body`` (JSON text) with each real NUL character replaced by U+FFFD, nothing else."""
    return _NUL_ESCAPE.sub(lambda match: match.group(1) + "\\ufffd", body)


def psycopg_conninfo(url: str) -> str:
    """A libpq URL for psycopg from a SQLAlchemy one (``postgresql+psycopg://…``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class DeliveryStore:
    def __init__(
        self,
        conninfo: str,
        *,
        size: int = 4,
        timeout: float = 2.0,
        statement_timeout_ms: int = 2000,
    ) -> None:
        self._conninfo = conninfo
        self._size = size
        self._timeout = timeout
        self._options = f"-c statement_timeout={statement_timeout_ms}"
        self._idle: list[psycopg.AsyncConnection] = []
        self._slots: asyncio.Semaphore | None = None

    async def store(self, *, digest: str, body: str, items: int) -> bool:
        """Store one delivery; ``True`` when new, ``False`` when already stored."""
        params = (digest, body, items)
        for attempt in (1, 2):
            try:
                async with self._connection() as (connection, reused):
                    try:
                        cursor = await _insert(connection, params)
                    except psycopg.errors.UntranslatableCharacter:
                        # jsonb cannot hold \u0000; keep the delivery rather than lose it.
                        cleaned = (digest, replace_nul_escapes(body), items)
                        cursor = await _insert(connection, cleaned)
                    return await cursor.fetchone() is not None
            except psycopg.OperationalError as error:
                if attempt == 2 or not reused:
                    raise StoreUnavailable(_one_line(error)) from None
        raise AssertionError("unreachable")

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the database answers."""
        try:
            async with self._connection() as (connection, _):
                await connection.execute("SELECT 1")
        except psycopg.OperationalError as error:
            raise StoreUnavailable(_one_line(error)) from None

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[tuple[psycopg.AsyncConnection, bool]]:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        try:
            async with asyncio.timeout(self._timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise StoreUnavailable("no database connection free in time") from None
        try:
            reused = bool(self._idle)
            connection = self._idle.pop() if reused else await self._connect()
            try:
                yield connection, reused
            except BaseException:
                await connection.close()
                raise
            self._idle.append(connection)
        finally:
            self._slots.release()

    async def _connect(self) -> psycopg.AsyncConnection:
        try:
            async with asyncio.timeout(self._timeout):
                return await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, options=self._options
                )
        except TimeoutError:
            raise StoreUnavailable("database connection timed out") from None


async def _insert(
    connection: psycopg.AsyncConnection, params: tuple[str, str, int]
) -> psycopg.AsyncCursor:
    try:
        return await connection.execute(sql.STORE_DELIVERY, params)
    except psycopg.errors.UntranslatableCharacter:
        raise
    except psycopg.DataError as error:
        raise Unstorable(f"body cannot be stored as JSON: {_one_line(error)}") from None


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
