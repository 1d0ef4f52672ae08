"""A fleet of dispatchers against the real fake Cloud API, faults injected, one killed.

The fake's per-second histogram and accepted counts per callback data are the ground
truth for "at the rate" and "never twice".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.fleet import (
    dispatcher_threads,
    reconciling_webhook,
    start_worker_process,
    unsettled,
)
from tests.dispatch.live import LIMIT, config, queue_for_new_travellers, rows, wait_for
from tests.support.net import wait_until
from tripcast.dispatch import DispatchReport, DispatchSettings, run_dispatch, utc_now
from tripcast.whatsapp.fake import FakeCloudApi

pytestmark = pytest.mark.integration


FLEET = DispatchSettings(send_rate=LIMIT, batch_seconds=1.0, lease=timedelta(seconds=10))
IN_FLIGHT = (
    "SELECT count(*) FROM whatsapp_messages WHERE lease_owner = %(owner)s "
    "AND send_started_at IS NOT NULL"
)
FAULTS = {
    "fault_seed": 11,
    "server_error_rate": 0.05,
    "timeout_rate": 0.03,
    "disconnect_rate": 0.03,
    "accept_then_disconnect_rate": 0.04,
}


def run_fleet(engine: Engine, fake: FakeCloudApi) -> tuple[list[DispatchReport], int, Any]:
    """A worker process starts, three dispatcher threads join it, the process is killed
    mid-batch; then, an hour later, one last run. Returns the threads' reports, how many
    sends the killed worker had marked, and the last run's report."""
    with reconciling_webhook(engine) as webhook_url:
        fake.reset(config(enforce_service_window=False, webhook_url=webhook_url,
                          webhook_statuses=["sent"], **FAULTS))  # fmt: skip
        doomed = start_worker_process(
            engine, fake, {"send_rate": LIMIT, "batch_seconds": 1.0, "lease_seconds": 3},
            owner="doomed",
        )  # fmt: skip
        wait_for(engine, IN_FLIGHT, owner="doomed", timeout=30)
        with dispatcher_threads(engine, fake, FLEET, count=3, timeout=50) as reports:
            # Mid-batch: killed once one of its marked sends was answered.
            wait_until_answered(engine, fake, owner="doomed", timeout=30)
            doomed.kill()
            assert doomed.wait() == -9
            doomed_attempts = wait_for(engine, IN_FLIGHT, owner="doomed", timeout=1)
        assert unsettled(engine) == 0, "the three dispatchers did not finish in time"
        fake.wait_for_webhooks()
        # An hour later: leases and the in-doubt grace have run out everywhere.
        final = run_dispatch(
            engine,
            client_factory=lambda: fake.client(timeout=0.5),
            settings=FLEET,
            now_fn=lambda: utc_now() + timedelta(hours=1),
        )
    return reports, doomed_attempts, final


def test_a_fleet_with_faults_and_a_killed_worker_sends_each_message_once_at_the_rate(
    engine: Engine, fake_api: FakeCloudApi
) -> None:
    ids = queue_for_new_travellers(
        engine, 160, last_inbound_at=utc_now() - timedelta(hours=1), every_template=4
    )

    reports, doomed_attempts, final = run_fleet(engine, fake_api)

    state = fake_api.state()
    assert all(
        state["faults"].get(fault, 0) > 0 for fault in ("server_error", "timeout", "disconnect")
    ), state["faults"]
    assert "130429" not in state["refusals"] and "131056" not in state["refusals"]
    assert sum(report.attempts for report in reports) > 0
    accepted = {item["callback_data"] for item in fake_api.accepted()}
    check_each_message_sent_once_or_failed_with_a_reason(engine, fake_api, ids, final)
    check_the_rate_in_every_second(fake_api)
    check_every_post_has_its_delivery_log(engine, accepted, state["requests"], doomed_attempts)


def wait_until_answered(engine: Engine, fake: FakeCloudApi, *, owner: str, timeout: float) -> None:
    """Until the fake has accepted one of the sends ``owner`` marked as started."""
    marked = IN_FLIGHT.replace("count(*)", "id::text")

    def answered() -> bool:
        started = {row["id"] for row in rows(engine, marked, owner=owner)}
        return bool(started & {item["callback_data"] for item in fake.accepted()})

    wait_until(answered, timeout, what=f"one of {owner}'s sends answered")


def check_each_message_sent_once_or_failed_with_a_reason(
    engine: Engine, fake: FakeCloudApi, ids: list[Any], final: DispatchReport
) -> None:
    assert fake.duplicates() == {}
    accepted = {item["callback_data"] for item in fake.accepted()}
    messages = rows(engine, "SELECT * FROM whatsapp_messages")
    assert {row["id"] for row in messages} == set(ids)
    assert {str(row["id"]) for row in messages if row["status"] == "sent"} == accepted
    failed = [row for row in messages if row["status"] == "failed"]
    assert len(accepted) + len(failed) == len(ids)
    unknown = [row for row in failed if row["failed_reason"].startswith("outcome unknown")]
    gave_up = [row for row in failed if "gave up after 5 attempts" in row["failed_reason"]]
    assert len(unknown) + len(gave_up) == len(failed), {r["failed_reason"] for r in failed}
    assert final.expired_in_doubt == len(unknown)
    assert all(row["lease_owner"] is None for row in messages)


def check_the_rate_in_every_second(fake: FakeCloudApi) -> None:
    """Four dispatchers in two processes, together, in every one-second window."""
    histogram = fake.histogram()
    assert max(n for _, n in histogram["per_second"]) <= LIMIT
    assert histogram["max_in_1s"] <= LIMIT
    assert histogram["max_in_1s"] >= 0.75 * LIMIT  # the fleet did push against the limit


def check_every_post_has_its_delivery_log(
    engine: Engine, accepted: set[str], requests: int, doomed_attempts: int
) -> None:
    """Attempts 1..k per message; as many (message, attempt) pairs as the fake saw
    requests, plus at most the killed worker's marked-but-unsent; a 'sent' log for each
    accepted message, including those accepted and then cut off (settled by webhook)."""
    logs = rows(
        engine,
        "SELECT whatsapp_message_id AS id, array_agg(DISTINCT attempt ORDER BY attempt) AS "
        "attempts FROM delivery_logs GROUP BY whatsapp_message_id",
    )
    assert all(row["attempts"] == list(range(1, len(row["attempts"]) + 1)) for row in logs)
    pairs = sum(len(row["attempts"]) for row in logs)
    assert requests <= pairs <= requests + doomed_attempts
    logged_sent = rows(
        engine,
        "SELECT DISTINCT whatsapp_message_id AS id FROM delivery_logs WHERE status = 'sent'",
    )
    assert {str(row["id"]) for row in logged_sent} == accepted
    settled_by_webhook = rows(
        engine,
        "SELECT DISTINCT d.whatsapp_message_id FROM delivery_logs AS d "
        "JOIN delivery_logs AS s ON s.whatsapp_message_id = d.whatsapp_message_id "
        "AND s.attempt = d.attempt AND s.status = 'sent' "
        "AND s.provider_response ->> 'source' = 'status webhook' "
        "WHERE d.provider_response ->> 'in_doubt' = 'true'",
    )
    assert settled_by_webhook
