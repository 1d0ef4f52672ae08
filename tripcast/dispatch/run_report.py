"""``DispatchReport``: what a dispatch run did, by outcome, reason and Meta error code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tripcast.dispatch.message_plan import Claimed
from tripcast.dispatch.outcomes import Outcome

KINDS = (
    "sent",
    "retry",
    "failed",
    "cancelled",
    "refused",
    "in_doubt",
    "stopped",
    "deferred",
    "limited",  # 131049: Meta's per-user marketing limit, tried again after 24 h
    "withheld",  # 130472: the traveller's number is in Meta's experiment
)


@dataclass
class DispatchReport:
    batches: int = 0
    claimed: int = 0
    attempts: int = 0  # POSTs made (one delivery log each)
    expired_in_doubt: int = 0  # in-doubt sends failed as "outcome unknown" this run
    expired: int = 0  # unsent messages failed as expired (past expires_at) this run
    by_outcome: Counter[tuple[str, str]] = field(default_factory=Counter)
    stopped_by: str | None = None  # the account-wide error that stopped the run
    drained: bool = False  # a claim found fewer due messages than it asked for

    def add_batch(self, outcomes: Iterable[Outcome], *, claimed: int, attempts: int) -> None:
        self.batches += 1
        self.claimed += claimed
        self.attempts += attempts
        self.by_outcome.update((outcome.kind, outcome.reason) for outcome in outcomes)

    def add_late(self, outcomes: Iterable[Outcome], *, attempts: int) -> None:
        """Outcomes of a batch's slow answers, recorded after the batch itself."""
        self.attempts += attempts
        self.by_outcome.update((outcome.kind, outcome.reason) for outcome in outcomes)

    def merge(self, other: DispatchReport) -> DispatchReport:
        self.batches += other.batches
        self.claimed += other.claimed
        self.attempts += other.attempts
        self.expired_in_doubt += other.expired_in_doubt
        self.expired += other.expired
        self.by_outcome.update(other.by_outcome)
        self.stopped_by = self.stopped_by or other.stopped_by
        self.drained = other.drained
        return self

    @property
    def finished(self) -> bool:
        """Whether another run would find nothing due now: it claimed nothing, or it
        drained the queue and handed nothing back (a deferred send may be due at once)."""
        return self.batches == 0 or (self.drained and self.count("deferred") == 0)

    def count(self, kind: str) -> int:
        return sum(n for (outcome, _), n in self.by_outcome.items() if outcome == kind)

    def counts(self) -> dict[str, int]:
        """Messages per outcome kind, every kind present (zero or not)."""
        return {kind: self.count(kind) for kind in KINDS}

    def rows(self) -> list[dict[str, Any]]:
        """One row per (outcome, reason) with Meta's code when the reason is one.

        Shaped for ``prefect.artifacts.create_table_artifact``.
        """
        rows = [
            {
                "outcome": kind,
                "reason": reason,
                "meta_code": int(reason) if reason.isdigit() else None,
                "messages": n,
            }
            for (kind, reason), n in sorted(self.by_outcome.items())
        ]
        if self.expired_in_doubt:
            rows.append(
                {
                    "outcome": "failed",
                    "reason": "outcome unknown",
                    "meta_code": None,
                    "messages": self.expired_in_doubt,
                }
            )
        if self.expired:
            rows.append(
                {"outcome": "failed", "reason": "expired", "meta_code": None,
                 "messages": self.expired}
            )  # fmt: skip
        return rows

    def summary(self) -> str:
        """One line for logs and the flow run's message."""
        parts = [f"{n} {kind}" for kind, n in self.counts().items() if n]
        if self.expired_in_doubt:
            parts.append(f"{self.expired_in_doubt} failed as outcome unknown")
        if self.expired:
            parts.append(f"{self.expired} failed as expired")
        done = ", ".join(parts) or "nothing due"
        line = (
            f"dispatch: {self.claimed} claimed in {self.batches} batches, "
            f"{self.attempts} sends: {done}"
        )
        if self.stopped_by:
            line += f"; stopped: {self.stopped_by}"
        return line


@dataclass(frozen=True)
class BatchDone:
    """One batch as recorded, for a follower's log line and for metrics hooks.

    ``claimed`` carries each message's ``created_at`` and ``priority``; an outcome of
    kind ``sent`` carries ``sent_at`` (Cloud API acceptance), so commit-to-acceptance
    latency per class is ``sent_at - created_at``.
    """

    claimed: Sequence[Claimed]
    outcomes: Sequence[Outcome]
    expired: int
    seconds: float

    def line(self) -> str:
        kinds = Counter(
            outcome.kind if outcome.kind == "sent" else f"{outcome.kind} ({outcome.reason})"
            for outcome in self.outcomes
        )
        done = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "none"
        extra = f", {self.expired} expired" if self.expired else ""
        return f"batch: {len(self.claimed)} claimed in {self.seconds:.2f} s: {done}{extra}"
