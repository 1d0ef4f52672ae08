"""Re-queueing failed messages against a real database: filters, dry run, history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.reruns.support import failed_message, job_for_rule, message, statuses
from tests.support.world import insert, make_traveller
from tripcast.reruns import InvalidSelection, Selection, requeue_failed

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
WINDOW = Selection(since=NOW - 24 * HOUR)


def requeued_ids(engine: Engine, selection: Selection, **kwargs: object) -> set[uuid.UUID]:
    before = statuses(engine)
    requeue_failed(engine, selection, now=NOW, **kwargs)  # type: ignore[arg-type]
    after = statuses(engine)
    return {i for i, status in after.items() if status == "pending" and before[i] == "failed"}


def test_requeue_resets_the_same_row_and_keeps_its_history(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        failed = failed_message(
            connection,
            who,
            failed_at=NOW - HOUR,
            error_code=131049,
            external_id="wamid.old",
            sent_at=NOW - 2 * HOUR,
            dedupe_key="rule:1:trip:1",
            lease_owner="dispatch-1",
            send_started_at=NOW - 2 * HOUR,
        )
        insert(
            connection,
            "delivery_logs",
            user_id=who.user,
            whatsapp_message_id=failed,
            channel="whatsapp",
            recipient="x",
            status="failed",
            attempt=1,
            error_code=131049,
        )
    report = requeue_failed(engine, WINDOW, now=NOW, operator="ana", note="quality limit lifted")
    assert (report.requeued, report.excluded) == (1, {})
    assert report.rows() == [
        {"outcome": "requeued", "reason": "error 131049", "template": "trip_reminder", "count": 1}
    ]
    row = message(engine, failed)
    assert (row["status"], row["next_attempt_at"], row["retry_count"]) == ("pending", NOW, 0)
    cleared = ("failed_at", "failed_reason", "error_code", "external_id", "sent_at",
               "send_started_at", "lease_owner", "lease_expires_at")  # fmt: skip
    assert {column: row[column] for column in cleared} == dict.fromkeys(cleared)
    assert row["dedupe_key"] == "rule:1:trip:1"
    (entry,) = row["metadata"]["reruns"]
    assert entry["run_id"] == str(report.run_id)
    assert (entry["operator"], entry["note"]) == ("ana", "quality limit lifted")
    assert datetime.fromisoformat(entry["at"]) == NOW
    previous = entry["previous"]
    assert (previous["error_code"], previous["external_id"], previous["retry_count"]) == (
        131049,
        "wamid.old",
        4,
    )
    assert datetime.fromisoformat(previous["failed_at"]) == NOW - HOUR
    assert row["metadata"]["template"]["name"] == "trip_reminder"
    with engine.connect() as connection:
        logs = connection.exec_driver_sql("SELECT count(*) FROM delivery_logs").scalar()
    assert logs == 1


def test_dry_run_counts_by_reason_and_changes_nothing(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        for _ in range(2):
            failed_message(connection, who, failed_at=NOW - HOUR)
        failed_message(connection, who, failed_at=NOW - HOUR, error_code=131026)
    before = statuses(engine)
    report = requeue_failed(engine, WINDOW, now=NOW, dry_run=True)
    assert statuses(engine) == before
    assert report.as_result()["would_requeue"] == 2
    assert report.rows() == [
        {"outcome": "would_requeue", "reason": "error 130429", "template": "trip_reminder",
         "count": 2},
        {"outcome": "excluded", "reason": "permanent:131026", "template": "trip_reminder",
         "count": 1},
    ]  # fmt: skip


def test_running_twice_queues_nothing_twice(engine: Engine) -> None:
    with engine.begin() as connection:
        failed = failed_message(connection, make_traveller(connection), failed_at=NOW - HOUR)
    assert requeue_failed(engine, WINDOW, now=NOW).requeued == 1
    again = requeue_failed(engine, WINDOW, now=NOW + timedelta(minutes=1))
    assert (again.requeued, again.counts) == (0, ())
    assert len(message(engine, failed)["metadata"]["reruns"]) == 1
    # Failing again later makes it a candidate again; its history grows.
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE whatsapp_messages SET status = 'failed', failed_at = %(t)s, "
            "error_code = 131000",
            {"t": NOW + timedelta(minutes=5)},
        )
    requeue_failed(engine, Selection(error_codes=(131000,)), now=NOW + timedelta(minutes=10))
    history = message(engine, failed)["metadata"]["reruns"]
    assert [entry["previous"]["error_code"] for entry in history] == [130429, 131000]


def test_time_window_is_half_open_and_falls_back_to_created_at(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        at_since = failed_message(connection, who, failed_at=NOW - 3 * HOUR)
        inside = failed_message(connection, who, failed_at=NOW - 2 * HOUR)
        at_until = failed_message(connection, who, failed_at=NOW - HOUR)
        too_old = failed_message(connection, who, failed_at=NOW - 4 * HOUR)
        seed_style = failed_message(
            connection, who, failed_at=None, created_at=NOW - 2 * HOUR, error_code=None
        )
    selection = Selection(since=NOW - 3 * HOUR, until=NOW - HOUR)
    assert requeued_ids(engine, selection) == {at_since, inside, seed_style}
    # until defaults to now: the row failed exactly at the old bound is in a wider window.
    assert requeued_ids(engine, Selection(since=NOW - 3 * HOUR)) == {at_until}
    assert message(engine, too_old)["status"] == "failed"


def test_template_filter(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        reminder = failed_message(connection, who, failed_at=NOW - HOUR)
        failed_message(connection, who, failed_at=NOW - HOUR, template="budget_alert")
        failed_message(connection, who, failed_at=NOW - HOUR, template=None)
    assert requeued_ids(engine, Selection(templates=("trip_reminder",))) == {reminder}


def test_error_code_filter(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        throttled = failed_message(connection, who, failed_at=NOW - HOUR, error_code=130429)
        server = failed_message(connection, who, failed_at=NOW - HOUR, error_code=131000)
        failed_message(connection, who, failed_at=NOW - HOUR, error_code=132001)
    selection = Selection(error_codes=(130429, 131000))
    assert requeued_ids(engine, selection) == {throttled, server}


def test_user_filter(engine: Engine) -> None:
    with engine.begin() as connection:
        mine, other = make_traveller(connection), make_traveller(connection)
        my_message = failed_message(connection, mine, failed_at=NOW - HOUR)
        failed_message(connection, other, failed_at=NOW - HOUR)
    assert requeued_ids(engine, Selection(user_ids=(mine.user,))) == {my_message}


def test_rule_filter_goes_through_the_message_job(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        rule, job = job_for_rule(connection, who)
        _, other_job = job_for_rule(connection, who)
        from_rule = failed_message(connection, who, failed_at=NOW - HOUR, job_id=job)
        failed_message(connection, who, failed_at=NOW - HOUR, job_id=other_job)
        failed_message(connection, who, failed_at=NOW - HOUR)  # inserted by the application
    assert requeued_ids(engine, Selection(rule_ids=(rule,))) == {from_rule}


def test_filters_combine(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        both = failed_message(connection, who, failed_at=NOW - HOUR, error_code=131000)
        failed_message(connection, who, failed_at=NOW - HOUR, error_code=130429)
        failed_message(connection, who, failed_at=NOW - HOUR, error_code=131000, template="x")
    selection = Selection(since=NOW - 2 * HOUR, templates=("trip_reminder",), error_codes=(131000,))
    assert requeued_ids(engine, selection) == {both}


def test_only_failed_outbound_rows_are_candidates(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        failed_message(connection, who, failed_at=NOW - HOUR, status="sent")
        failed_message(connection, who, failed_at=NOW - HOUR, direction="inbound")
    assert requeue_failed(engine, WINDOW, now=NOW).counts == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give at least one filter"),
        ({"include_permanent": True}, "give at least one filter"),
        ({"since": datetime(2026, 5, 1)}, "since must carry a timezone"),
        ({"since": NOW, "until": NOW}, "since must be before until"),
    ],
)
def test_selection_is_validated(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSelection, match=message):
        Selection(**kwargs)  # type: ignore[arg-type]


def test_selection_deduplicates_repeated_values() -> None:
    selection = Selection(templates=["a", "b", "a"], error_codes=[1, 1])  # type: ignore[arg-type]
    assert (selection.templates, selection.error_codes) == (("a", "b"), (1,))


def test_expired_messages_come_back_only_when_asked_with_a_new_expiry(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        expired = failed_message(
            connection,
            who,
            failed_at=NOW - HOUR,
            failed_reason="expired: not sent by 2026-05-01T08:00:00Z",
            expires_at=NOW - HOUR,
        )
        past_its_time = failed_message(
            connection, who, failed_at=NOW - HOUR, error_code=131000, expires_at=NOW - HOUR / 2
        )
        alive = failed_message(
            connection, who, failed_at=NOW - HOUR, error_code=131000, expires_at=NOW + HOUR
        )
    report = requeue_failed(engine, WINDOW, now=NOW)
    assert report.excluded == {"expired": 2}
    assert message(engine, alive)["expires_at"] == NOW + HOUR
    assert {message(engine, m)["status"] for m in (expired, past_its_time)} == {"failed"}

    asked = Selection(since=NOW - 24 * HOUR, include_expired=True, expires_in=timedelta(minutes=30))
    assert requeued_ids(engine, asked) == {expired, past_its_time}
    for message_id in (expired, past_its_time):
        assert message(engine, message_id)["expires_at"] == NOW + timedelta(minutes=30)


def test_including_expired_messages_needs_a_new_expiry() -> None:
    with pytest.raises(InvalidSelection, match="--expires-in"):
        Selection(since=NOW, include_expired=True)
    with pytest.raises(InvalidSelection, match="--include-expired"):
        Selection(since=NOW, expires_in=timedelta(hours=1))
