"""Each business number is paced on its own shared schedule, at its own rate."""

from __future__ import annotations

import itertools
import time

import httpx
import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE
from tests.dispatch.conftest import Clock
from tests.dispatch.mock_api import accepted, dispatch, queued, traveller
from tripcast.dispatch import DispatchSettings
from tripcast.models.senders import WhatsAppSenderCreate
from tripcast.senders.registry import add_sender

pytestmark = pytest.mark.anyio


async def test_a_slow_number_keeps_its_rate_while_the_default_keeps_its_own(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    posts: dict[str, list[float]] = {}

    def respond(request: httpx.Request) -> httpx.Response:
        number = request.url.path.split("/")[2]
        posts.setdefault(number, []).append(time.monotonic())
        return accepted(request)

    httpx_mock.add_callback(respond, is_reusable=True)
    with engine.begin() as connection:
        add_sender(connection, WhatsAppSenderCreate(phone_number_id="1234567890"))
        add_sender(
            connection, WhatsAppSenderCreate(phone_number_id="2002", markets=["PT"], send_rate=5)
        )
    template = {"template": TEMPLATE}
    for index in range(4):
        queued(engine, traveller(engine, phone=f"35191200020{index}"), message_type="template",
               metadata=template)  # fmt: skip
        queued(engine, traveller(engine, phone=f"3461234560{index}"))

    await dispatch(engine, clock, settings=DispatchSettings(send_rate=50, lanes=1))

    slow, fast = sorted(posts["2002"]), sorted(posts["1234567890"])
    assert (len(slow), len(fast)) == (4, 4)
    # 5/s less the 4 % margin: slots 0.208 s apart; the default's 50/s ones 0.021 s.
    assert min(b - a for a, b in itertools.pairwise(slow)) > 0.18
    assert fast[-1] - fast[0] < slow[-1] - slow[0]
    with engine.connect() as connection:
        schedules = connection.exec_driver_sql(
            "SELECT phone_number_id FROM send_pacing ORDER BY 1"
        ).scalars()
        assert list(schedules) == ["1234567890", "2002"]
