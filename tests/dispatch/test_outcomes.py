"""Mapping one POST's answer to the row's next state and its delivery log (pure)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tripcast.dispatch.message_plan import Claimed, Send
from tripcast.dispatch.outcomes import accepted, describe, errored
from tripcast.whatsapp.api_errors import NetworkError, WhatsAppError
from tripcast.whatsapp.error_codes import error_from_response
from tripcast.whatsapp.messages import SendResult, TextMessage

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def send(retry_count: int = 0) -> Send:
    message_id = uuid.uuid4()
    claimed = Claimed(
        id=message_id,
        user_id=uuid.uuid4(),
        message_type="text",
        content="hi",
        metadata={},
        retry_count=retry_count,
        phone_number="351912345678",
        opt_in_status="opted_in",
        last_inbound_at=None,
        marketing=None,
    )
    return Send(claimed, TextMessage(body="hi", biz_opaque_callback_data=str(message_id)), "text")


def meta(code: int, message: str, details: str | None = None, status: int = 400) -> WhatsAppError:
    body = {"error": {"message": message, "type": "OAuthException", "code": code}}
    if details is not None:
        body["error"]["error_data"] = {"details": details}  # type: ignore[index]
    return error_from_response(status, body)


def test_accepted_send_is_sent_with_the_wamid_and_logged() -> None:
    planned = send()
    result = SendResult(wa_id="351912345678", input="351912345678", message_id="wamid.A")
    outcome, log = accepted(planned, result, now=NOW)
    assert (outcome.status, outcome.kind, outcome.external_id) == ("sent", "sent", "wamid.A")
    assert outcome.sent_at == NOW
    assert (log.status, log.attempt, log.recipient) == ("sent", 1, "351912345678")
    assert log.provider_response["messages"] == [{"id": "wamid.A"}]


def test_permanent_error_fails_at_once_with_metas_code_and_message() -> None:
    error = meta(131026, "(#131026) Message undeliverable", "Message undeliverable")
    outcome, log = errored(send(), error, now=NOW, max_attempts=5)
    assert outcome.status == "failed"
    assert outcome.failed_reason == "131026: Message undeliverable"
    assert outcome.error_code == 131026
    assert outcome.failed_at == NOW
    assert (log.status, log.error_code, log.attempt) == ("failed", 131026, 1)
    assert log.provider_response["error"]["code"] == 131026


def test_transient_error_retries_later_with_backoff_and_counts_the_retry() -> None:
    error = meta(131000, "(#131000) Something went wrong", status=500)
    outcome, log = errored(send(retry_count=1), error, now=NOW, max_attempts=5)
    assert (outcome.status, outcome.kind, outcome.retry_count) == ("pending", "retry", 2)
    assert outcome.next_attempt_at is not None
    # attempt 2 of a 1 s family: 2 s, stretched by at most 25 % jitter
    delay = outcome.next_attempt_at - NOW
    assert timedelta(seconds=2) <= delay <= timedelta(seconds=2.5)
    assert (outcome.failed_reason, outcome.error_code, outcome.keep_started) == (None, None, False)
    assert (log.attempt, log.error_code) == (2, 131000)


def test_pair_rate_limit_backs_off_four_to_the_n_seconds() -> None:
    error = meta(131056, "(#131056) pair rate limit hit")
    outcome, _ = errored(send(retry_count=1), error, now=NOW, max_attempts=5, rng=random.Random(1))
    assert outcome.next_attempt_at is not None
    assert timedelta(seconds=16) <= outcome.next_attempt_at - NOW <= timedelta(seconds=20)


def test_transient_error_on_the_last_attempt_fails_with_the_last_reason() -> None:
    error = meta(131000, "(#131000) Something went wrong", status=500)
    outcome, log = errored(send(retry_count=2), error, now=NOW, max_attempts=3)
    assert outcome.status == "failed"
    assert outcome.failed_reason == "131000: Something went wrong (gave up after 3 attempts)"
    assert outcome.error_code == 131000
    assert log.attempt == 3


@pytest.mark.parametrize("failure", ["timeout", "disconnect"])
def test_maybe_accepted_send_stays_in_doubt_and_is_not_rescheduled(failure: str) -> None:
    error = NetworkError("no answer", failure=failure)  # type: ignore[arg-type]
    outcome, log = errored(send(), error, now=NOW, max_attempts=5)
    assert (outcome.status, outcome.kind) == ("pending", "in_doubt")
    assert outcome.keep_started is True  # send_started_at stays: never claimed again
    assert outcome.next_attempt_at is None
    assert outcome.retry_count == 0  # the expiry logs this attempt's final word
    assert log.provider_response["in_doubt"] is True


def test_connect_failure_is_safe_to_retry() -> None:
    error = NetworkError("refused", failure="connect")
    outcome, _ = errored(send(), error, now=NOW, max_attempts=5)
    assert (outcome.kind, outcome.keep_started) == ("retry", False)


def test_token_expired_stops_and_puts_the_message_back_untouched() -> None:
    error = meta(190, "Error validating access token", status=401)
    outcome, log = errored(send(), error, now=NOW, max_attempts=1)
    assert (outcome.status, outcome.kind, outcome.keep_started) == ("pending", "stopped", False)
    assert outcome.failed_reason is None
    assert (log.status, log.error_code) == ("failed", 190)


def test_describe_adds_details_only_when_they_say_more() -> None:
    assert describe(meta(132001, "(#132001) Template missing", "no such template")) == (
        "132001: Template missing (no such template)"
    )
    assert describe(NetworkError("timed out", failure="timeout")) == "network: timed out"
