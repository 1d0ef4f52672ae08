"""Error 131050 on a send is Meta's consent signal: marketing stops for that traveller."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE, make_traveller, message, queue_message
from tests.dispatch.live import LIMIT, config, rows
from tripcast.dispatch import DispatchSettings, run_dispatch
from tripcast.whatsapp.fake import FakeCloudApi

pytestmark = pytest.mark.integration


def test_a_131050_refusal_turns_marketing_off_and_is_a_consent_event(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    fake_api.reset(config(latency_seconds=0.0))
    with engine.begin() as connection:
        ana = make_traveller(connection, marketing=True)
        offer = queue_message(
            connection, ana, metadata={"template": TEMPLATE, "category": "marketing"}
        )
    fake_api.script_faults(131050)
    run_dispatch(
        engine,
        client_factory=lambda: fake_api.client(timeout=2.0),
        settings=DispatchSettings(send_rate=LIMIT),
    )
    assert (message(engine, offer)["status"], message(engine, offer)["error_code"]) == (
        "failed",
        131050,
    )
    (prefs,) = rows(
        engine, "SELECT marketing FROM notification_preferences WHERE user_id = %(u)s",
        u=ana.user_id,
    )  # fmt: skip
    assert prefs == {"marketing": False}
    (event,) = rows(
        engine, "SELECT source, intent, outcome, keyword, inbound_external_id FROM consent_events"
    )
    assert event == {
        "source": "error_131050",
        "intent": "stop",
        "outcome": "opted_out",
        "keyword": "131050",
        "inbound_external_id": f"131050:{offer}",
    }
