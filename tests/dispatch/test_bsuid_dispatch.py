"""Dispatch to a traveller known only by business-scoped user ID, against the fake."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE, make_traveller, message, queue_message
from tests.dispatch.live import LIMIT, config, rows
from tripcast.dispatch import DispatchSettings, run_dispatch
from tripcast.whatsapp.fake import FakeCloudApi
from tripcast.whatsapp.fake.identity import bsuid_for

pytestmark = pytest.mark.integration


def test_an_account_without_a_usable_number_is_sent_to_by_its_bsuid(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    fake_api.reset(config(latency_seconds=0.0))
    with engine.begin() as connection:
        ana = make_traveller(connection)
        bsuid = bsuid_for(ana.phone)
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET phone_number = '', bsuid = %(b)s WHERE id = %(a)s",
            {"b": bsuid, "a": ana.account_id},
        )
        queued = queue_message(connection, ana, metadata={"template": TEMPLATE})
    report = run_dispatch(
        engine,
        client_factory=lambda: fake_api.client(timeout=2.0),
        settings=DispatchSettings(send_rate=LIMIT),
    )
    assert report.counts()["sent"] == 1
    (accepted,) = fake_api.accepted(callback_data=str(queued))
    assert (accepted["recipient"], accepted["by_bsuid"]) == (ana.phone, True)
    assert message(engine, queued)["status"] == "sent"
    (log,) = rows(engine, "SELECT recipient, status FROM delivery_logs")
    assert log == {"recipient": bsuid, "status": "sent"}
