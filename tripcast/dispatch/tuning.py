"""Dispatch tuning: the shared rate, retries, leases and the in-doubt grace period."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

DEFAULT_MAX_ATTEMPTS = 5


class RateSettings(Protocol):
    """What ``DispatchSettings.from_settings`` reads (``tripcast.settings.Settings`` has it)."""

    send_rate: float
    send_rate_margin: float


@dataclass(frozen=True)
class DispatchSettings:
    """How one dispatcher behaves; every dispatcher sharing a phone number id shares the rate.

    ``send_rate`` is ``TRIPCAST_SEND_RATE`` (None: no pacing at all, for benchmarks).
    ``rate_margin`` is the share of the rate left unused so that scheduling jitter
    (event-loop delays, network) never pushes one second over the limit.
    """

    send_rate: float | None = 80.0
    rate_margin: float = 0.04
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_in_flight: int = 256
    # A batch never holds more than this many seconds of the shared schedule: a message
    # of a higher class waits at most for the lanes' reservations ahead of it (about
    # lanes x batch_seconds), so this bounds the time to send behind a backlog.
    batch_seconds: float = 0.5
    # Slots are reserved this far ahead at least, and each send's in-flight mark starts
    # ``mark_lead`` before its slot, so the mark commits before the slot instead of
    # making the send late.
    slot_lead: float = 0.06
    mark_lead: float = 0.04
    # Unpaced, sends are marked in flight in waves of this many (see ``marker``): a
    # crash leaves in doubt the POSTs in flight and about two waves per lane at most.
    mark_wave: int = 100
    # A claim's lease: a dead dispatcher's unsent rows go back to the queue after it.
    # Short, to keep the time-to-send goal; safe, because a row is marked in flight only
    # under its claimant's lease, just before its POST.
    lease: timedelta = timedelta(seconds=60)
    # How long an in-doubt send waits for its status webhook before it is failed as
    # "outcome unknown"; longer than any lease, so a live (slow) worker is never overtaken.
    in_doubt_grace: timedelta = timedelta(minutes=15)
    lanes: int = 3
    # A batch is recorded this many seconds after its last launch at the latest; an
    # answer slower than that (bounded by the client's request deadline) is recorded on
    # its own when it comes, so one trickling answer leaves only itself in doubt.
    record_after: float = 2.0
    # Under a rate, two lanes keep the schedule full; each further lane only holds
    # another batch of the schedule ahead of a message of a higher class.
    paced_lanes: int = 2
    # Meta's pair rate: about one message per 6 s to one recipient (131056 otherwise).
    pair_spacing: timedelta = timedelta(seconds=6)

    def __post_init__(self) -> None:
        if self.send_rate is not None and self.send_rate <= 0:
            raise ValueError("send_rate must be positive (or None for no pacing)")
        if not 0 <= self.rate_margin < 1:
            raise ValueError("rate_margin must be in [0, 1)")
        if min(self.max_attempts, self.max_in_flight, self.lanes, self.paced_lanes) < 1:
            raise ValueError(
                "max_attempts, max_in_flight, lanes and paced_lanes must be at least 1"
            )
        if self.mark_wave < 1:
            raise ValueError("mark_wave must be at least 1")
        if self.record_after < 0:
            raise ValueError("record_after must not be negative")
        if self.in_doubt_grace < self.lease:
            raise ValueError("in_doubt_grace must be at least the lease")
        if not 0 <= self.mark_lead <= self.slot_lead:
            raise ValueError("mark_lead must be between 0 and slot_lead")

    @classmethod
    def from_settings(cls, settings: RateSettings, **overrides: object) -> DispatchSettings:
        return cls(
            send_rate=settings.send_rate,
            rate_margin=settings.send_rate_margin,
            **overrides,  # type: ignore[arg-type]
        )

    @property
    def paced_rate(self) -> float | None:
        """Sends per second actually scheduled: the limit less the safety margin.

        A one-second window holds whole sends, so a limit of 80.5/s allows 80 of them.
        """
        if self.send_rate is None:
            return None
        per_window = math.floor(self.send_rate) if self.send_rate >= 1 else self.send_rate
        return per_window * (1 - self.rate_margin)

    @property
    def send_interval(self) -> float:
        """Seconds between two consecutive slots of the shared schedule (0: unpaced)."""
        rate = self.paced_rate
        return 0.0 if rate is None else 1.0 / rate

    @property
    def max_lateness(self) -> float:
        """How late after its slot a send may still start without risking the limit.

        Slots ``1/r'`` apart, each send started at most ``D`` late, put at most
        ``r' * (1 + D)`` sends in any one-second window; that stays within the limit
        ``r' / (1 - margin)`` while ``D <= margin / (1 - margin)``. Half of that is
        allowed here; the other half is left for the network and the far side's clock.
        """
        return self.rate_margin / (1 - self.rate_margin) / 2

    @property
    def lane_count(self) -> int:
        """Lanes a dispatcher runs: all of them unpaced, at most ``paced_lanes`` paced."""
        return self.lanes if self.send_rate is None else min(self.lanes, self.paced_lanes)

    def claim_limit(self, batch_size: int) -> int:
        """How many messages one batch claims: ``batch_size``, less when the rate is slow."""
        rate = self.paced_rate
        if rate is None:
            return batch_size
        return max(1, min(batch_size, math.ceil(rate * self.batch_seconds)))
