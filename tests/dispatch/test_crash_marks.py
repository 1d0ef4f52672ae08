"""A dispatcher killed mid-batch leaves in doubt only the sends that may have left."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.fleet import start_worker_process
from tests.dispatch.live import config, queue_for_new_travellers, rows
from tests.support.net import wait_until
from tripcast.dispatch import DispatchSettings, run_dispatch, utc_now
from tripcast.whatsapp.fake import FakeCloudApi

pytestmark = pytest.mark.integration

RATE = 5.0  # slots 0.2 s apart: a 2 s batch of 10 is still sending when it is killed


def test_a_killed_dispatcher_leaves_unsent_rows_to_the_queue_not_in_doubt(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    fake_api.reset(config(latency_seconds=0.0, enforce_service_window=False))
    ids = queue_for_new_travellers(engine, 10, last_inbound_at=utc_now())
    doomed = start_worker_process(
        engine,
        fake_api,
        {"send_rate": RATE, "batch_seconds": 2.0, "lease_seconds": 3, "lanes": 1},
        owner="doomed",
    )
    wait_until(lambda: len(fake_api.accepted()) >= 3, 30, what="the fake accepted 3 sends")
    doomed.kill()
    assert doomed.wait() == -9

    accepted = {item["callback_data"] for item in fake_api.accepted()}
    in_doubt = {
        str(row["id"])
        for row in rows(
            engine,
            "SELECT id FROM whatsapp_messages WHERE status = 'pending' "
            "AND send_started_at IS NOT NULL",
        )
    }
    leased_unsent = rows(
        engine,
        "SELECT id FROM whatsapp_messages WHERE lease_owner = 'doomed' "
        "AND status = 'pending' AND send_started_at IS NULL",
    )
    # At most the one send whose mark had committed when the process died was not made.
    assert len(in_doubt - accepted) <= 1
    assert leased_unsent, "the batch's later sends should still be leased, unsent"

    # After the lease the unsent rows go out; nothing is sent twice.
    later = utc_now() + timedelta(seconds=4)
    run_dispatch(
        engine,
        client_factory=lambda: fake_api.client(timeout=2.0),
        # Unpaced, so no send of this run is deferred as late for a slot on a busy machine.
        settings=DispatchSettings(send_rate=None),
        now_fn=lambda: later,
    )
    sends = [item["callback_data"] for item in fake_api.accepted()]
    assert len(sends) == len(set(sends))
    assert {str(row["id"]) for row in leased_unsent} <= set(sends)
    assert set(sends) <= {str(message_id) for message_id in ids}


def test_an_unpaced_dispatcher_killed_mid_batch_leaves_in_doubt_only_its_marked_waves(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    # Unpaced, sends are marked in waves ahead of their POSTs: 2 in flight, waves of 3.
    fake_api.reset(config(latency_seconds=0.2, enforce_service_window=False))
    ids = queue_for_new_travellers(engine, 40, last_inbound_at=utc_now())
    doomed = start_worker_process(
        engine,
        fake_api,
        {"send_rate": None, "max_in_flight": 2, "mark_wave": 3, "lanes": 1, "lease_seconds": 3},
        owner="doomed",
    )
    wait_until(lambda: len(fake_api.accepted()) >= 6, 30, what="the fake accepted 6 sends")
    doomed.kill()
    assert doomed.wait() == -9
    # A POST in flight at the kill is recorded when the fake answers it, 0.2 s later.
    time.sleep(0.3)

    accepted = {item["callback_data"] for item in fake_api.accepted()}
    in_doubt = {
        str(row["id"])
        for row in rows(
            engine,
            "SELECT id FROM whatsapp_messages WHERE status = 'pending' "
            "AND send_started_at IS NOT NULL",
        )
    }
    # Marked but never sent: the rest of the wave being launched and the next wave.
    assert 0 < len(in_doubt - accepted) <= 2 * 3
    assert accepted <= in_doubt  # the dispatcher died before recording them

    # After the lease only the unmarked rows go out: in-doubt rows are never re-sent.
    later = utc_now() + timedelta(seconds=4)
    run_dispatch(
        engine,
        client_factory=lambda: fake_api.client(timeout=2.0),
        settings=DispatchSettings(send_rate=None),
        now_fn=lambda: later,
    )
    sends = [item["callback_data"] for item in fake_api.accepted()]
    assert len(sends) == len(set(sends))
    assert set(sends) == {str(message_id) for message_id in ids} - (in_doubt - accepted)
