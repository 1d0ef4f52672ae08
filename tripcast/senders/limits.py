"""The portfolio's messaging limit: new unique users reached by business-initiated
messages in a rolling 24 hours, shared by all its numbers.

The tier is the highest ``messaging_limit_tier`` among the senders (set by an operator
with ``tripcast senders add --tier`` or learned from ``phone_number_quality_update``);
no tier anywhere means no limit is enforced. A business-initiated message is one sent
as a template (outside a customer-service window). A traveller already reached in the
last 24 hours costs nothing more; a new one beyond the tier waits (pending, due again
when the oldest reach leaves the window), higher priority classes served first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from tripcast.dispatch.message_plan import Plan, Send
from tripcast.dispatch.outcomes import Outcome, deferred
from tripcast.senders.registry import Sender

WINDOW = timedelta(hours=24)
TIER_SIZES: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1_000,
    "TIER_2K": 2_000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": None,
}
LIMIT_REASON = "messaging limit: {tier} new users in 24 h reached"

# Travellers reached by business-initiated messages in the window (sent, or in flight),
# and when the oldest of those reaches leaves it.
REACHED = """
SELECT user_id, min(coalesce(sent_at, send_started_at)) AS first_at
FROM public.whatsapp_messages
WHERE direction = 'outbound' AND message_type = 'template' AND send_started_at IS NOT NULL
  AND coalesce(sent_at, send_started_at) > %(since)s
  AND (sent_at IS NOT NULL OR status = 'pending')
GROUP BY 1
"""


@dataclass(frozen=True)
class Room:
    tier: str | None
    size: int | None  # None: unlimited
    reached: frozenset[object]
    frees_at: datetime | None  # when the oldest reach leaves the window

    @property
    def left(self) -> int | None:
        return None if self.size is None else max(0, self.size - len(self.reached))


def portfolio_tier(senders: Iterable[Sender]) -> str | None:
    known = [s.messaging_limit_tier for s in senders if s.messaging_limit_tier in TIER_SIZES]
    if not known:
        return None
    return max(known, key=lambda tier: TIER_SIZES[tier] or float("inf"))


def room(connection: Connection, senders: Iterable[Sender], *, now: datetime) -> Room:
    tier = portfolio_tier(senders)
    size = TIER_SIZES.get(tier) if tier else None
    if size is None:
        return Room(tier, None, frozenset(), None)
    rows = connection.exec_driver_sql(REACHED, {"since": now - WINDOW}).tuples().all()
    first = min((at for _, at in rows), default=None)
    return Room(tier, size, frozenset(a for a, _ in rows), first + WINDOW if first else None)


def within_limit(
    connection: Connection, *, plans: list[Plan], senders: Iterable[Sender], now: datetime
) -> tuple[list[Plan], list[Outcome]]:
    """The plans that may go now, and deferrals of templates to new users past the tier."""
    limit = room(connection, senders, now=now)
    if limit.left is None:
        return plans, []
    templates = [p for p in plans if isinstance(p, Send) and p.form == "template"]
    allowed: set[object] = set()
    for send in sorted(templates, key=lambda s: s.claimed.priority):
        traveller = send.claimed.user_id
        if traveller not in limit.reached and len(allowed) < limit.left:
            allowed.add(traveller)
    retry_at = limit.frees_at or now + timedelta(minutes=15)
    reason = LIMIT_REASON.format(tier=limit.tier)
    kept: list[Plan] = []
    outcomes: list[Outcome] = []
    for plan in plans:
        traveller = plan.claimed.user_id
        if (
            isinstance(plan, Send)
            and plan.form == "template"
            and traveller not in limit.reached
            and traveller not in allowed
        ):
            outcomes.append(deferred(plan, now=now, reason=reason, retry_at=retry_at))
        else:
            kept.append(plan)
    return kept, outcomes


PENDING_TRAVELLERS = """
SELECT DISTINCT user_id FROM public.whatsapp_messages
WHERE status = 'pending' AND direction = 'outbound' AND message_type = 'template'
  AND send_started_at IS NULL
"""


@dataclass(frozen=True)
class Forecast:
    room: Room
    planned: int  # new users the batch would reach

    @property
    def over_by(self) -> int:
        left = self.room.left
        return 0 if left is None else max(0, self.planned - left)

    def summary(self) -> str:
        room = self.room
        if room.size is None:
            return (
                f"no messaging limit ({room.tier or 'no tier known'}): {self.planned} new users fit"
            )
        lines = [
            f"messaging limit {room.tier}: {room.size} new users per 24 h; "
            f"{len(room.reached)} reached in the last 24 h, {room.left} left",
        ]
        if self.over_by == 0:
            lines.append(f"the batch of {self.planned} new users fits")
        else:
            frees = room.frees_at.isoformat() if room.frees_at else "when the window moves"
            lines.append(
                f"the batch of {self.planned} new users exceeds it by {self.over_by}: "
                f"new user {(room.left or 0) + 1} and after wait; room frees from {frees}"
            )
        return "\n".join(lines)


def forecast(
    connection: Connection, senders: Iterable[Sender], *, now: datetime, count: int | None
) -> Forecast:
    """Would ``count`` new users (else the pending queue's new users) exceed the tier?"""
    limit = room(connection, senders, now=now)
    if count is None:
        pending = connection.exec_driver_sql(PENDING_TRAVELLERS).scalars().all()
        count = len(set(pending) - limit.reached)
    return Forecast(limit, count)
