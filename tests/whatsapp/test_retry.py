from __future__ import annotations

import random

import pytest

from tests.whatsapp.meta_bodies import meta_error
from tripcast.whatsapp.api_errors import MalformedResponseError, NetworkError
from tripcast.whatsapp.error_codes import error_from_response
from tripcast.whatsapp.phone import InvalidPhoneNumber
from tripcast.whatsapp.retry import JITTER_SHARE, decide

HOUR = 3600.0

# (meta code, HTTP status, attempt, max attempts, action, minimum delay)
TABLE = [
    (130429, 400, 1, 5, "retry", 1.0),
    (130429, 400, 3, 5, "retry", 4.0),
    (130429, 400, 5, 5, "give_up", 0.0),
    (131056, 400, 1, 5, "retry", 4.0),
    (131056, 400, 2, 5, "retry", 16.0),
    (131056, 400, 3, 5, "retry", 64.0),
    (4, 400, 1, 5, "retry", 60.0),
    (80007, 400, 2, 5, "retry", 120.0),
    (131000, 500, 1, 3, "retry", 1.0),
    (131016, 503, 2, 3, "retry", 2.0),
    (131016, 503, 3, 3, "give_up", 0.0),
    (131048, 400, 1, 5, "retry", HOUR),
    (131049, 400, 1, 5, "retry", 24 * HOUR),  # never within 24 h
    (131049, 400, 2, 5, "retry", 24 * HOUR),
    (131049, 400, 5, 5, "give_up", 0.0),
    (130472, 400, 1, 5, "give_up", 0.0),
    (131053, 400, 1, 5, "give_up", 0.0),
    (131008, 400, 1, 5, "give_up", 0.0),
    (131009, 400, 1, 5, "give_up", 0.0),
    (131042, 400, 1, 5, "stop_batch", 0.0),
    (368, 403, 1, 5, "stop_batch", 0.0),
    (131037, 400, 1, 5, "stop_batch", 0.0),
    (131045, 400, 1, 5, "stop_batch", 0.0),
    (131047, 400, 1, 5, "give_up", 0.0),
    (131026, 400, 1, 5, "give_up", 0.0),
    (131051, 400, 1, 5, "give_up", 0.0),
    (132000, 400, 1, 5, "give_up", 0.0),
    (132001, 404, 1, 5, "give_up", 0.0),
    (131021, 400, 1, 5, "give_up", 0.0),
    (133010, 400, 1, 5, "stop_batch", 0.0),
    (100, 400, 1, 5, "give_up", 0.0),
    (131050, 400, 1, 5, "give_up", 0.0),
    (190, 401, 1, 5, "stop_batch", 0.0),
    (190, 401, 5, 5, "stop_batch", 0.0),
    (424242, 400, 1, 5, "give_up", 0.0),
    (424242, 500, 1, 5, "retry", 1.0),
]


@pytest.mark.parametrize(("code", "status", "attempt", "max_attempts", "action", "at_least"), TABLE)
def test_decide_for_meta_error_bodies(
    code: int, status: int, attempt: int, max_attempts: int, action: str, at_least: float
) -> None:
    error = error_from_response(status, meta_error(code))
    decision = decide(error, attempt=attempt, max_attempts=max_attempts, rng=random.Random(7))
    assert decision.action == action
    assert at_least <= decision.delay_seconds <= at_least * (1 + JITTER_SHARE)
    assert str(code) in decision.reason
    assert decision.in_doubt is False


def test_backoff_grows_and_is_capped() -> None:
    error = error_from_response(500, meta_error(131000))
    delays = [
        decide(error, attempt=n, max_attempts=50, rng=random.Random(1)).delay_seconds
        for n in range(1, 20)
    ]
    assert delays[0] < delays[1] < delays[2]
    assert max(delays) <= 300 * (1 + JITTER_SHARE)


def test_quality_backoff_is_capped_at_a_day() -> None:
    error = error_from_response(400, meta_error(131048))
    decision = decide(error, attempt=10, max_attempts=20, rng=random.Random(1))
    assert 24 * HOUR <= decision.delay_seconds <= 24 * HOUR * (1 + JITTER_SHARE)


def test_jitter_is_deterministic_with_a_seed_and_spreads_without_one() -> None:
    error = error_from_response(400, meta_error(130429))
    first = decide(error, attempt=2, max_attempts=5, rng=random.Random(3))
    again = decide(error, attempt=2, max_attempts=5, rng=random.Random(3))
    assert first == again
    spread = {decide(error, attempt=2, max_attempts=5).delay_seconds for _ in range(20)}
    assert len(spread) > 1


def test_in_doubt_network_failure_is_retried_but_flagged_for_reconciliation() -> None:
    dropped = NetworkError("dropped", failure="disconnect")
    decision = decide(dropped, attempt=1, max_attempts=3, rng=random.Random(0))
    assert decision.action == "retry"
    assert decision.in_doubt is True
    assert "reconcile" in decision.reason


def test_connect_failure_is_a_plain_retry() -> None:
    refused = NetworkError("refused", failure="connect")
    decision = decide(refused, attempt=1, max_attempts=3, rng=random.Random(0))
    assert (decision.action, decision.in_doubt) == ("retry", False)
    assert 0.5 <= decision.delay_seconds <= 0.5 * (1 + JITTER_SHARE)


def test_accepted_without_wamid_is_not_resent() -> None:
    decision = decide(MalformedResponseError("no wamid"), attempt=1, max_attempts=3)
    assert (decision.action, decision.in_doubt) == ("give_up", True)


def test_other_exceptions_give_up() -> None:
    decision = decide(InvalidPhoneNumber("123", "too short"), attempt=1, max_attempts=3)
    assert decision.action == "give_up"
    assert "InvalidPhoneNumber" in decision.reason


@pytest.mark.parametrize(("attempt", "max_attempts"), [(0, 3), (1, 0), (-1, -1)])
def test_attempts_are_one_based(attempt: int, max_attempts: int) -> None:
    with pytest.raises(ValueError, match="start at 1"):
        decide(NetworkError("x", failure="connect"), attempt=attempt, max_attempts=max_attempts)
