"""What a rerun leaves alone: permanent failures, and consent or preferences as of now.
The SQL's reasons are checked against the Python reference in ``reruns.reasons``."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.reruns.support import failed_message, message
from tests.support.world import make_traveller, set_preferences
from tripcast.reruns import Selection, preview, requeue_failed
from tripcast.reruns.reasons import exclusion_reason

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=1)
WINDOW = Selection(since=NOW - timedelta(days=1))
WITH_PERMANENT = Selection(since=NOW - timedelta(days=1), include_permanent=True)

PERMANENT = [
    ({"error_code": 131026}, "permanent:131026"),
    ({"error_code": 131050, "category": "marketing"}, "permanent:131050"),
    ({"error_code": 131021}, "permanent:131021"),
    ({"error_code": None, "failed_reason": "cancelled: opted out"}, "cancelled_by_consent"),
    ({"error_code": None, "failed_reason": "outcome unknown: no receipt"}, "outcome_unknown"),
]


@pytest.mark.parametrize(("columns", "reason"), PERMANENT)
def test_permanent_failures_need_include_permanent(
    engine: Engine, columns: dict[str, Any], reason: str
) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        set_preferences(connection, user_id=who.user, marketing=True)
        failed = failed_message(connection, who, failed_at=EARLIER, **columns)
    report = requeue_failed(engine, WINDOW, now=NOW)
    assert (report.requeued, report.excluded) == (0, {reason: 1})
    assert message(engine, failed)["status"] == "failed"
    assert requeue_failed(engine, WITH_PERMANENT, now=NOW).requeued == 1
    assert message(engine, failed)["status"] == "pending"


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        ({"opt_in_status": "opted_out"}, "opted_out"),
        ({"opt_in_status": "pending"}, "not_opted_in"),
        ({"verified": False}, "account_not_verified"),
    ],
)
def test_consent_as_of_now_is_respected_even_with_include_permanent(
    engine: Engine, account: dict[str, Any], reason: str
) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection, **account)
        opted_out_since = failed_message(connection, who, failed_at=EARLIER)
        cancelled = failed_message(
            connection, who, failed_at=EARLIER, error_code=None, failed_reason="cancelled: x"
        )
    report = requeue_failed(engine, WITH_PERMANENT, now=NOW)
    assert (report.requeued, report.excluded) == (0, {reason: 2})
    assert {message(engine, m)["status"] for m in (opted_out_since, cancelled)} == {"failed"}


def test_a_category_switched_off_since_is_excluded(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        set_preferences(connection, user_id=who.user, trip_reminders=False)
        failed_message(connection, who, failed_at=EARLIER)
        budget = failed_message(connection, who, failed_at=EARLIER, category="budget_alerts")
    report = requeue_failed(engine, WINDOW, now=NOW)
    assert report.excluded == {"category_disabled:trip_reminders": 1}
    assert message(engine, budget)["status"] == "pending"


@pytest.mark.parametrize(("marketing", "requeued"), [(None, 0), (False, 0), (True, 1)])
def test_marketing_needs_marketing_on_now(
    engine: Engine, marketing: bool | None, requeued: int
) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        if marketing is not None:
            set_preferences(connection, user_id=who.user, marketing=marketing)
        failed_message(connection, who, failed_at=EARLIER, category="marketing")
    report = requeue_failed(engine, WINDOW, now=NOW)
    assert report.requeued == requeued
    assert report.excluded == ({} if requeued else {"marketing_not_allowed": 1})


def test_verification_codes_are_never_re_sent(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        failed_message(
            connection, who, failed_at=EARLIER, template="verification_code",
            category="authentication",
        )  # fmt: skip
    report = requeue_failed(engine, WITH_PERMANENT, now=NOW)
    assert (report.requeued, report.excluded) == (0, {"verification_code": 1})


def test_metadata_that_is_not_an_object_is_left_for_an_operator(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        failed = failed_message(connection, who, failed_at=EARLIER, metadata=["odd"])
        seed_row = failed_message(connection, who, failed_at=EARLIER, metadata={})
    report = requeue_failed(engine, WINDOW, now=NOW)
    assert report.excluded == {"metadata_not_an_object": 1}
    assert message(engine, failed)["metadata"] == ["odd"]
    assert len(message(engine, seed_row)["metadata"]["reruns"]) == 1


ACCOUNTS = [
    {},
    {"opt_in_status": "opted_out"},
    {"opt_in_status": "pending"},
    {"verified": False, "opt_in_status": "opted_out"},
]
PREFERENCES: list[dict[str, Any] | None] = [
    None,
    {"trip_reminders": False, "marketing": True},
    {"budget_alerts": None, "marketing": False},
]
MESSAGES: list[dict[str, Any]] = [
    {},
    {"category": "budget_alerts"},
    {"category": "marketing", "error_code": 131050},
    {"category": None, "template": None},
    {"category": "unknown-category"},
    {"category": "authentication"},
    {"error_code": None, "failed_reason": "cancelled: opted out"},
    {"error_code": None, "failed_reason": "outcome unknown: maybe sent"},
    {"metadata": 7},
]


@pytest.mark.parametrize("include_permanent", [False, True])
def test_sql_reasons_match_the_python_reference(engine: Engine, include_permanent: bool) -> None:
    expected = {}
    with engine.begin() as connection:
        for account, preferences in itertools.product(ACCOUNTS, PREFERENCES):
            who = make_traveller(connection, **account)
            if preferences is not None:
                set_preferences(connection, user_id=who.user, **preferences)
            state = {"is_verified": account.get("verified", True),
                     "opt_in_status": account.get("opt_in_status", "opted_in")}  # fmt: skip
            for columns in MESSAGES:
                message_id = failed_message(connection, who, failed_at=EARLIER, **columns)
                row = connection.exec_driver_sql(
                    "SELECT metadata, error_code, failed_reason FROM whatsapp_messages "
                    "WHERE id = %(id)s",
                    {"id": message_id},
                ).mappings().one()  # fmt: skip
                expected[str(message_id)] = exclusion_reason(
                    row, state, preferences, include_permanent=include_permanent
                )
        selection = Selection(since=EARLIER, include_permanent=include_permanent)
        rows = preview(connection, selection, now=NOW, limit=1000)
    assert {row["message_id"]: row["reason"] or None for row in rows} == expected
    assert None in expected.values() and len(set(expected.values())) >= 8
    assert json.dumps(rows)  # the preview is JSON for an artifact


def test_quiet_hours_defer_a_rerun_and_never_exclude_it(engine: Engine) -> None:
    night = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)  # 02:00 in Lisbon (WEST, UTC+1)
    with engine.begin() as connection:
        sleeper, awake = make_traveller(connection), make_traveller(connection)
        for who, tz in ((sleeper, "Europe/Lisbon"), (awake, "Asia/Tokyo")):
            set_preferences(
                connection,
                user_id=who.user,
                quiet_hours_enabled=True,
                quiet_hours_start="22:00",
                quiet_hours_end="07:00",
                timezone=tz,
            )
        asleep = failed_message(connection, sleeper, failed_at=night - timedelta(hours=3))
        daytime = failed_message(connection, awake, failed_at=night - timedelta(hours=3))
    selection = Selection(since=night - timedelta(days=1))
    dry = requeue_failed(engine, selection, now=night, dry_run=True)
    assert sorted(c.outcome for c in dry.counts) == ["would_defer", "would_requeue"]
    report = requeue_failed(engine, selection, now=night)
    assert (report.requeued, report.excluded) == (2, {})
    assert sorted(c.outcome for c in report.counts) == ["deferred", "requeued"]
    assert message(engine, asleep)["next_attempt_at"] == datetime(2026, 5, 1, 6, 0, tzinfo=UTC)
    assert message(engine, daytime)["next_attempt_at"] == night  # 10:00 in Tokyo
