"""The one base of tripcast's own errors: whether waiting may help, and how the CLI exits.

``transient``: a retry later may succeed (a database or service briefly away); the
task retry condition and the in-process retries read it. ``exit_code``: what
``tripcast`` exits with after printing the error as one line (1 a failure, 2 bad
configuration or input, 3 the database).
"""

from __future__ import annotations

from typing import ClassVar

EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_DATABASE = 3


class TripcastError(Exception):
    """Every exception class tripcast defines derives from this one."""

    transient: ClassVar[bool] = False
    exit_code: ClassVar[int] = EXIT_FAILURE
