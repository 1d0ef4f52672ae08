"""Loopback helpers for tests that start real servers, and waits on their effects."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str = "condition met",
    detail: Callable[[], str] | None = None,
    interval: float = 0.02,
) -> T:
    """Poll ``check`` until it returns something truthy, and return that.

    TimeoutError at the deadline naming ``what``, with ``detail()`` (a log, a count) read
    then, when given.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            said = f"\n{detail()}" if detail is not None else ""
            raise TimeoutError(f"not within {timeout:g} s: {what}{said}")
        time.sleep(interval)


def wait_until(
    check: Callable[[], bool],
    timeout: float = 10.0,
    *,
    what: str = "condition met",
    detail: Callable[[], str] | None = None,
    interval: float = 0.02,
) -> float:
    """Poll ``check`` until it holds; the seconds that took. TimeoutError at the deadline."""
    began = time.monotonic()
    wait_for(check, timeout=timeout, what=what, detail=detail, interval=interval)
    return time.monotonic() - began
