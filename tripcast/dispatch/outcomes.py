"""How each claimed message ends this round, and the delivery log of each POST: pure.

``Outcome.kind`` is what the report counts: ``sent``, ``retry`` (pending again after a
backoff), ``failed`` (Meta refused for good, or retries ran out), ``cancelled``
(consent), ``refused`` (nothing sendable: window, template), ``in_doubt`` (maybe
accepted: left for the status webhook), ``stopped`` (batch stopped by an account-wide
error), ``deferred`` (not sent: throttled or released before the POST), ``limited``
(131049, Meta's per-user marketing limit: pending again, not before 24 hours; not a
failure), ``withheld`` (130472, the traveller's number is in Meta's experiment: failed
for good, but nothing of ours went wrong).
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tripcast.dispatch.message_plan import CANCELLED_CODE_EXPIRED, Refuse, Send
from tripcast.whatsapp.api_errors import ExperimentError, MarketingLimitError, WhatsAppError
from tripcast.whatsapp.messages import SendResult
from tripcast.whatsapp.retry import decide

_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")


@dataclass(frozen=True)
class Outcome:
    message_id: uuid.UUID
    kind: str
    status: str  # the row's new status: pending, sent or failed
    retry_count: int
    external_id: str | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    failed_reason: str | None = None
    error_code: int | None = None
    next_attempt_at: datetime | None = None
    # False only for a row that was definitely not accepted and goes back to the queue.
    keep_started: bool = True
    reason: str = ""  # short and low-cardinality, for the report


@dataclass(frozen=True)
class AttemptLog:
    """One ``delivery_logs`` row: one POST and what came of it."""

    user_id: uuid.UUID
    message_id: uuid.UUID
    recipient: str
    status: str  # sent | failed
    provider_response: dict[str, Any]
    error_message: str | None
    attempt: int
    error_code: int | None
    at: datetime


def describe(error: BaseException) -> str:
    """``"131026: Message undeliverable"``: Meta's code and message, for failed_reason."""
    if not isinstance(error, WhatsAppError):
        return f"{type(error).__name__}: {error}"
    text = _CODE_PREFIX.sub("", error.message)
    if error.details and error.details not in text:
        text = f"{text} ({error.details})"
    prefix = error.code if error.code is not None else error.family
    return f"{prefix}: {text}"


def provider_response(error: BaseException) -> dict[str, Any]:
    """Meta's error object as far as we know it, plus how tripcast classified it."""
    if not isinstance(error, WhatsAppError):
        return {"error": {"message": str(error), "type": type(error).__name__}}
    details = {"details": error.details} if error.details else {}
    body = {
        "message": error.message,
        "type": error.error_type,
        "code": error.code,
        "error_data": details,
        "fbtrace_id": error.fbtrace_id,
    }
    return {
        "error": {key: value for key, value in body.items() if value not in (None, {})},
        "http_status": error.http_status,
        "family": error.family,
        "in_doubt": error.in_doubt,
    }


def refused(plan: Refuse, *, now: datetime) -> Outcome:
    claimed = plan.claimed
    return Outcome(
        claimed.id,
        "cancelled" if plan.cancelled else "refused",
        "failed",
        claimed.retry_count,
        failed_at=now,
        failed_reason=plan.reason,
        keep_started=False,
        reason=plan.reason.removeprefix("cancelled: "),
    )


def accepted(send: Send, result: SendResult, *, now: datetime) -> tuple[Outcome, AttemptLog]:
    claimed = send.claimed
    message: dict[str, Any] = {"id": result.message_id}
    if result.message_status is not None:
        message["message_status"] = result.message_status
    contact = {"input": result.input, "wa_id": result.wa_id, "user_id": result.user_id}
    response = {
        "messaging_product": "whatsapp",
        "contacts": [{key: value for key, value in contact.items() if value is not None}],
        "messages": [message],
    }
    outcome = Outcome(
        claimed.id,
        "sent",
        "sent",
        claimed.retry_count,
        external_id=result.message_id,
        sent_at=now,
        reason=send.form,
    )
    return outcome, _log(send, "sent", response, None, None, now)


def errored(
    send: Send,
    error: BaseException,
    *,
    now: datetime,
    max_attempts: int,
    rng: random.Random | None = None,
) -> tuple[Outcome, AttemptLog]:
    """Map a failed POST through ``retry.decide`` to the row's next state."""
    claimed = send.claimed
    decision = decide(error, attempt=claimed.attempt, max_attempts=max_attempts, rng=rng)
    code = error.code if isinstance(error, WhatsAppError) else None
    text = describe(error)
    log = _log(send, "failed", provider_response(error), text, code, now)
    label = str(code) if code is not None else getattr(error, "family", type(error).__name__)
    # A pending row carries no error fields: its delivery logs tell its story.
    base = Outcome(claimed.id, "", "pending", claimed.retry_count, reason=label)
    if decision.in_doubt:
        # Maybe accepted: never re-send blindly. The status webhook (callback data = our
        # id) settles it; without one, the in-doubt expiry fails it as outcome unknown.
        return _with(base, kind="in_doubt"), log
    if decision.action == "stop_batch":
        # Not the message's fault: it goes back to the queue, counted as one retry.
        retry_count = claimed.attempt
        return _with(base, kind="stopped", retry_count=retry_count, keep_started=False), log
    retry_at = now + timedelta(seconds=decision.delay_seconds)
    if decision.action == "retry" and not code_dead_by(send, retry_at):
        return _with(
            base,
            kind="limited" if isinstance(error, MarketingLimitError) else "retry",
            retry_count=claimed.attempt,
            next_attempt_at=retry_at,
            keep_started=False,
        ), log
    if decision.action == "retry":
        # A verification code is never retried at or after its expiry: it fails now.
        text = f"{text} (not retried: the verification code expires before the next attempt)"
    elif error_is_transient(error):
        text = f"{text} (gave up after {claimed.attempt} attempts)"
    elif isinstance(error, ExperimentError):
        text = f"{text} (withheld by Meta: the number is part of an experiment)"
    kind = "withheld" if isinstance(error, ExperimentError) else "failed"
    failed = _with(
        base, kind=kind, status="failed", failed_at=now, failed_reason=text, error_code=code
    )
    return failed, log


def unsent(send: Send, *, kind: str, reason: str, retry_at: datetime | None = None) -> Outcome:
    """A planned send that was never POSTed: back to the queue, no attempt used."""
    claimed = send.claimed
    return Outcome(
        claimed.id,
        kind,
        "pending",
        claimed.retry_count,
        next_attempt_at=retry_at,
        keep_started=False,
        reason=reason,
    )


def code_dead_by(send: Send, moment: datetime) -> bool:
    """Whether ``send`` is a verification code that has expired by ``moment``."""
    return send.expires_at is not None and moment >= send.expires_at


def code_expired(send: Send, *, now: datetime) -> Outcome:
    """A verification code never POSTed that could only go at or after its expiry."""
    claimed = send.claimed
    return Outcome(
        claimed.id,
        "cancelled",
        "failed",
        claimed.retry_count,
        failed_at=now,
        failed_reason=CANCELLED_CODE_EXPIRED,
        keep_started=False,
        reason=CANCELLED_CODE_EXPIRED.removeprefix("cancelled: "),
    )


def deferred(send: Send, *, now: datetime, reason: str, retry_at: datetime | None) -> Outcome:
    """A send put off unsent until ``retry_at`` (or at once): back to the queue with no
    attempt used, or cancelled when it is a verification code dead by then."""
    if code_dead_by(send, retry_at or now):
        return code_expired(send, now=now)
    return unsent(send, kind="deferred", reason=reason, retry_at=retry_at)


def error_is_transient(error: BaseException) -> bool:
    return isinstance(error, WhatsAppError) and error.transient


def _with(outcome: Outcome, **changes: Any) -> Outcome:
    return replace(outcome, **changes)


def _log(
    send: Send,
    status: str,
    response: dict[str, Any],
    error_message: str | None,
    code: int | None,
    now: datetime,
) -> AttemptLog:
    claimed = send.claimed
    return AttemptLog(
        user_id=claimed.user_id,
        message_id=claimed.id,
        recipient=send.to,
        status=status,
        provider_response=response,
        error_message=error_message,
        attempt=claimed.attempt,
        error_code=code,
        at=now,
    )
