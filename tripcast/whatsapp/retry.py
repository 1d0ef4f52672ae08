"""What to do after a failed send: a pure decision from the error and the attempt.

No I/O and no clock: the caller sleeps, re-queues or stops. ``attempt`` is the
1-based number of the attempt that just failed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from tripcast.whatsapp.api_errors import (
    PairRateLimitError,
    QualityLimitError,
    WhatsAppError,
)

RetryAction = Literal["retry", "give_up", "stop_batch"]

MAX_DELAY_SECONDS = 300.0
MAX_QUALITY_DELAY_SECONDS = 24 * 3600.0
JITTER_SHARE = 0.25


@dataclass(frozen=True)
class RetryDecision:
    action: RetryAction
    delay_seconds: float
    reason: str
    # The failed call may have been accepted: re-sending risks a duplicate, so the
    # caller reconciles from the status webhook (biz_opaque_callback_data) first.
    in_doubt: bool = False


def decide(
    error: BaseException,
    *,
    attempt: int,
    max_attempts: int,
    rng: random.Random | None = None,
) -> RetryDecision:
    """Retry transient errors with jittered exponential backoff, up to ``max_attempts``."""
    if attempt < 1 or max_attempts < 1:
        raise ValueError(f"attempt ({attempt}) and max_attempts ({max_attempts}) start at 1")
    if not isinstance(error, WhatsAppError):
        return RetryDecision("give_up", 0.0, f"not a Cloud API error: {error!r}")
    label = _label(error)
    in_doubt = error.in_doubt
    if error.fatal:
        return RetryDecision("stop_batch", 0.0, f"{label}: stops the batch", in_doubt)
    if not error.transient:
        return RetryDecision("give_up", 0.0, f"{label}: permanent", in_doubt)
    if attempt >= max_attempts:
        reason = f"{label}: still failing after {attempt} of {max_attempts} attempts"
        return RetryDecision("give_up", 0.0, reason, in_doubt)
    delay = _jittered(backoff_seconds(error, attempt=attempt), rng or random.Random())
    reason = f"{label}: transient, retry {attempt + 1} of {max_attempts} in {delay:.1f}s"
    if in_doubt:
        reason += "; in doubt: reconcile from the status webhook before re-sending"
    return RetryDecision("retry", delay, reason, in_doubt)


def backoff_seconds(error: WhatsAppError, *, attempt: int) -> float:
    """The un-jittered wait after ``attempt`` failed attempts, per error family."""
    if isinstance(error, PairRateLimitError):
        # Meta's guidance is 4^n seconds; n starts at 1 because a 1 s wait can never
        # clear a pair window of about 6 s.
        return min(4.0**attempt, MAX_DELAY_SECONDS)
    exponential = error.wait_hint_seconds * 2.0 ** (attempt - 1)
    if isinstance(error, QualityLimitError):
        return min(exponential, MAX_QUALITY_DELAY_SECONDS)
    return min(exponential, max(MAX_DELAY_SECONDS, error.wait_hint_seconds))


def _jittered(delay: float, rng: random.Random) -> float:
    # Jitter only lengthens the wait, so the family's minimum still holds while
    # concurrent senders that failed together spread out.
    return delay * (1.0 + JITTER_SHARE * rng.random())


def _label(error: WhatsAppError) -> str:
    code = f" {error.code}" if error.code is not None else ""
    return f"{error.family}{code}"
