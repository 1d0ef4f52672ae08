"""Why a phone verification step was refused: one exception per cause, one line each.

Every error has a stable ``code`` (what a flow returns and an app can branch on) and a
message a support person can read out to the traveller. Phone numbers are masked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from tripcast.exceptions import TripcastError


class VerificationError(TripcastError):
    """A verification step refused for a reason the traveller (not an operator) can fix."""

    code: ClassVar[str] = "verification_error"

    def as_outcome(self) -> dict[str, Any]:
        """The JSON a flow returns instead of failing: a typo is not an incident."""
        return {"outcome": "rejected", "error": self.code, "message": str(self)}


class InvalidPhone(VerificationError):
    code = "invalid_phone"


class UnknownUser(VerificationError):
    code = "unknown_user"


class PhoneNumberTaken(VerificationError):
    """The number belongs to another user's account (verified, or being verified)."""

    code = "phone_taken"

    def __init__(self, masked_phone: str, *, verified: bool) -> None:
        state = "already verified" if verified else "awaiting verification"
        super().__init__(f"phone number {masked_phone} is {state} by another user")
        self.verified = verified


class AlreadyVerified(VerificationError):
    code = "already_verified"


class ResendThrottled(VerificationError):
    code = "resend_throttled"

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        when = retry_at.astimezone(UTC)
        super().__init__(f"{message}; try again after {when:%Y-%m-%d %H:%M:%S}Z")
        self.retry_at = retry_at

    def as_outcome(self) -> dict[str, Any]:
        return {**super().as_outcome(), "retry_at": self.retry_at.isoformat()}


class NoPendingCode(VerificationError):
    code = "no_pending_code"


class MalformedCode(VerificationError):
    """Not six digits: refused without using up an attempt (it cannot be a guess)."""

    code = "malformed_code"


class CodeExpired(VerificationError):
    code = "code_expired"


class WrongCode(VerificationError):
    code = "wrong_code"

    def __init__(self, *, attempts_left: int) -> None:
        plural = "attempt" if attempts_left == 1 else "attempts"
        super().__init__(f"wrong code: {attempts_left} {plural} left for this code")
        self.attempts_left = attempts_left

    def as_outcome(self) -> dict[str, Any]:
        return {**super().as_outcome(), "attempts_left": self.attempts_left}


class AttemptsExhausted(VerificationError):
    """Too many wrong codes: the code is void until a new one is requested."""

    code = "attempts_exhausted"
