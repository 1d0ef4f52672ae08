"""What the receiver refuses at the door (400 with a reason) and what it must never refuse."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import scalar
from tests.webhooks.conftest import post
from tripcast.webhooks.receiver_server import BackgroundReceiver

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def stored(engine: Engine) -> int:
    return int(scalar(engine, "SELECT count(*) FROM webhook_deliveries"))


def with_status(**fields: object) -> dict:
    item = meta.status(meta.new_wamid(), "delivered", T0)
    item.update(fields)
    return meta.payload(statuses=[item])


def with_message(**fields: object) -> dict:
    item = meta.text_message("351912345678", "hi", T0)
    item.update(fields)
    return meta.payload(messages=[item])


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (with_status(timestamp="99999999999999999999"), "statuses.0.timestamp"),
        (with_message(timestamp="99999999999999999999"), "messages.0.timestamp"),
        (with_status(timestamp="-5"), "statuses.0.timestamp"),
        (
            with_status(status="failed", errors=[meta.meta_error(code=99999999999999)]),
            "statuses.0.errors.0.code",
        ),
        (with_status(status="failed", errors=[{"code": -99999999999}]), "errors.0.code"),
        (with_status(status=""), "statuses.0.status"),
    ],
    ids=[
        "huge-status-timestamp",
        "huge-message-timestamp",
        "negative-timestamp",
        "huge-error-code",
        "negative-huge-error-code",
        "empty-status",
    ],
)
def test_a_value_that_can_never_be_valid_is_400_with_where_and_why(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine, data: dict, where: str
) -> None:
    answer = post(http, receiver.url, data)
    assert answer.status_code == 400, answer.text
    assert where in answer.json()["error"]
    assert stored(engine) == 0


@pytest.mark.parametrize("name", ["played", "deleted", "warning", "some_future_status"])
def test_a_status_tripcast_does_not_use_is_acknowledged_and_stored(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine, name: str
) -> None:
    answer = post(http, receiver.url, with_status(status=name))
    assert (answer.status_code, answer.json()) == (200, {"status": "stored"})
    assert stored(engine) == 1


@pytest.mark.parametrize("number", ["1e999999", "-1e999999", "Infinity", "NaN"])
def test_a_number_postgresql_cannot_store_is_400_not_500(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine, number: str
) -> None:
    raw = meta.body(with_status(pricing="@@@")).replace(b'"@@@"', number.encode())
    answer = post(http, receiver.url, raw)
    assert answer.status_code == 400, answer.text
    assert "cannot be stored as JSON" in answer.json()["error"]
    assert stored(engine) == 0
