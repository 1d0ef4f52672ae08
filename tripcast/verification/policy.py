"""The limits of phone verification and the re-send throttle, as plain functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tripcast.verification.refusals import ResendThrottled


@dataclass(frozen=True)
class VerificationPolicy:
    """How long a code lives, how many guesses it allows, how often codes may be sent."""

    code_ttl: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    resend_interval: timedelta = timedelta(seconds=60)
    sends_per_window: int = 5
    send_window: timedelta = timedelta(hours=1)

    def recent_sends(self, sends: Sequence[datetime] | None, *, now: datetime) -> list[datetime]:
        """The send times still inside the window (what the account row keeps)."""
        return sorted(t for t in (sends or ()) if t > now - self.send_window)

    def check_resend(self, sends: Sequence[datetime] | None, *, now: datetime) -> None:
        """Raise ``ResendThrottled`` when another code may not be sent yet."""
        recent = self.recent_sends(sends, now=now)
        if not recent:
            return
        last = recent[-1]
        if now - last < self.resend_interval:
            waited = max(int((now - last).total_seconds()), 0)
            raise ResendThrottled(
                f"a code was sent {waited} s ago; codes go out at most once every "
                f"{int(self.resend_interval.total_seconds())} s",
                retry_at=last + self.resend_interval,
            )
        if len(recent) >= self.sends_per_window:
            oldest = recent[-self.sends_per_window]
            raise ResendThrottled(
                f"{len(recent)} codes were sent within the last "
                f"{_describe(self.send_window)}, the most allowed",
                retry_at=oldest + self.send_window,
            )


DEFAULT_POLICY = VerificationPolicy()


def _describe(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return "hour" if minutes == 60 else f"{minutes} minutes"
