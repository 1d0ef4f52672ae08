"""``TRIPCAST_TEST_PERSIST_RESULTS=1 pytest tests/flows`` runs every flow test with
Prefect persisting results, as production often does: a task that cached or reloaded
an earlier call's result would then skip work and fail its test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from prefect.settings import PREFECT_RESULTS_PERSIST_BY_DEFAULT, temporary_settings


@pytest.fixture(autouse=True)
def results_persisted_on_request() -> Iterator[None]:
    persist = os.environ.get("TRIPCAST_TEST_PERSIST_RESULTS") == "1"
    with temporary_settings({PREFECT_RESULTS_PERSIST_BY_DEFAULT: persist}):
        yield
