"""A circuit breaker per business number, inside one dispatcher.

A run of ``threshold`` errors that are about the number, not the recipient (Meta's side
failing, no answer, spam-rate limits: ``server``, ``network``, ``quality`` families)
opens it: that number's messages wait (pending, no attempt used) for ``cooldown``. Then
it is half-open: one message of the number is sent as a probe while the rest wait a
little; a success closes it, another such error opens it again. Errors about one
recipient or one template neither count nor reset the run; a success resets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tripcast.dispatch.message_plan import Send
from tripcast.dispatch.outcomes import Outcome, deferred
from tripcast.whatsapp.api_errors import WhatsAppError

SENDER_FAMILIES = frozenset({"server", "network", "quality"})
PROBE_WAIT = timedelta(seconds=5)
# A probe whose answer never came (not posted after all, or lost) is retried after this.
PROBE_LOST = timedelta(seconds=30)
OPEN_REASON = "sender {number}: circuit open after {count} errors in a row"


@dataclass
class Breaker:
    threshold: int = 5
    cooldown: timedelta = timedelta(seconds=30)
    failures: int = 0
    opened_at: datetime | None = None
    probe_at: datetime | None = None  # when the half-open probe was let through

    def state(self, now: datetime) -> str:
        if self.opened_at is None:
            return "closed"
        return "open" if now < self.opened_at + self.cooldown else "half-open"

    def record(self, result: object, *, now: datetime) -> None:
        if isinstance(result, WhatsAppError):
            if result.family not in SENDER_FAMILIES:
                return
            self.failures += 1
            if self.probe_at is not None or self.failures >= self.threshold:
                self.opened_at, self.probe_at = now, None
            return
        if isinstance(result, BaseException):
            return
        self.failures, self.opened_at, self.probe_at = 0, None, None

    def admits(self, now: datetime) -> bool:
        """Whether one more send may go now (taking the probe when half-open)."""
        state = self.state(now)
        if state == "closed":
            return True
        if state == "open" or (self.probe_at is not None and now < self.probe_at + PROBE_LOST):
            return False
        self.probe_at = now
        return True


@dataclass
class Breakers:
    threshold: int = 5
    cooldown: timedelta = timedelta(seconds=30)
    by_number: dict[str, Breaker] = field(default_factory=dict)

    def of(self, number: str) -> Breaker:
        if number not in self.by_number:
            self.by_number[number] = Breaker(self.threshold, self.cooldown)
        return self.by_number[number]

    def gate(self, sends: list[Send], *, now: datetime) -> tuple[list[Send], list[Outcome]]:
        """Sends that may go; an open number's wait, a half-open one sends one probe."""
        kept: list[Send] = []
        outcomes: list[Outcome] = []
        for send in sends:
            number = send.claimed.sender
            breaker = self.by_number.get(number) if number is not None else None
            if breaker is None or breaker.admits(now):
                kept.append(send)
                continue
            assert breaker.opened_at is not None
            reopen = breaker.opened_at + breaker.cooldown
            retry_at = reopen if now < reopen else now + PROBE_WAIT
            reason = OPEN_REASON.format(number=number, count=breaker.failures)
            outcomes.append(deferred(send, now=now, reason=reason, retry_at=retry_at))
        return kept, outcomes
