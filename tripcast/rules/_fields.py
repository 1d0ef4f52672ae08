"""Reusable field types for rule configs: JSON numbers only (no booleans, no numeric
strings), naive local times written ``HH:MM`` or ``HH:MM:SS``."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated

from pydantic import BeforeValidator, Field

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")


def _integral_float_to_int(value: object) -> object:
    # JSON has one number type: accept 3.0 as 3, leave everything else to strict int.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _clock_text_to_time(value: object) -> object:
    # Strings that are not HH:MM[:SS] pass through unchanged and fail strict validation.
    if isinstance(value, str) and _CLOCK.match(value):
        return time.fromisoformat(value)
    if isinstance(value, time) and value.tzinfo is not None:
        return str(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_integral_float_to_int), Field(strict=True)]
"""An ``int`` from a JSON number (``3`` or ``3.0``); booleans and strings are rejected."""

LocalTime = Annotated[
    time,
    BeforeValidator(_clock_text_to_time),
    Field(strict=True, description="a local time written 'HH:MM' (24-hour clock)"),
]
"""A naive ``datetime.time`` from ``'HH:MM'`` / ``'HH:MM:SS'`` text (or a naive ``time``)."""
