"""The Prefect wrapper: one batch per task run, retries only for infrastructure."""

from __future__ import annotations

import pytest
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from tests.dispatch.builders import make_traveller, queue_message
from tests.dispatch.conftest import NOW
from tests.dispatch.mock_api import accept_all, client
from tripcast.dispatch import DispatchReport, DispatchSettings, DispatchStopped
from tripcast.tasks.decorator import retry_on_transient
from tripcast.tasks.dispatch import dispatch_batch
from tripcast.whatsapp.api_errors import AuthError


def test_one_task_run_dispatches_one_batch(engine: Engine, httpx_mock: HTTPXMock) -> None:
    accept_all(httpx_mock)
    with engine.begin() as connection:
        for _ in range(5):
            queue_message(connection, make_traveller(connection, last_inbound_at=NOW))

    report = dispatch_batch.fn(
        batch_size=2,
        now=NOW,
        settings=DispatchSettings(send_rate=None, lanes=2),
        engine=engine,
        client_factory=client,
    )

    assert (report.batches, report.claimed, report.counts()["sent"]) == (1, 2, 2)
    assert len(httpx_mock.get_requests()) == 2


def test_the_task_never_caches_and_retries_on_the_shared_policy() -> None:
    assert dispatch_batch.cache_policy is NO_CACHE
    assert dispatch_batch.retries == 3
    assert dispatch_batch.retry_condition_fn is retry_on_transient


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (OperationalError("SELECT 1", {}, Exception("server closed the connection")), True),
        (ConnectionResetError("reset by peer"), True),
        (
            DispatchStopped(
                AuthError("Error validating access token", code=190),
                report=DispatchReport(),
                left_pending=3,
            ),
            False,
        ),
        (ValueError("a bug"), False),
    ],
)
def test_only_infrastructure_failures_are_retried(error: BaseException, retried: bool) -> None:
    state = Failed(data=error)
    assert retry_on_transient(dispatch_batch, None, state) is retried
