"""Which status may follow which: WhatsApp message receipts and scheduled job lifecycle.

Messages: ``pending < sent < delivered < read``; ``failed`` is terminal. A receipt only
ever moves a message forward; duplicates and late (out-of-order) receipts change
nothing. ``failed`` is accepted while the message is ``pending`` or ``sent`` (Meta can
fail a message after accepting it) and ignored once it was delivered or read.

Timestamps are set once. ``read`` implies delivered, so a ``read`` receipt for a message
with no ``delivered_at`` fills ``delivered_at`` with the read time; a ``delivered``
receipt arriving after ``read`` still fills a missing ``delivered_at`` (with its own,
truer time) but never overwrites one.

SQL mirror: ``MESSAGE_STATUS_RANK`` gives the order (``failed`` has no rank).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Literal, cast

from tripcast.rules._tz import require_aware

MessageStatus = Literal["pending", "sent", "delivered", "read", "failed"]
MESSAGE_STATUSES: tuple[MessageStatus, ...] = ("pending", "sent", "delivered", "read", "failed")
MESSAGE_STATUS_RANK: Mapping[str, int] = MappingProxyType(
    {"pending": 0, "sent": 1, "delivered": 2, "read": 3}
)

JobStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
JOB_STATUSES: tuple[JobStatus, ...] = ("pending", "running", "completed", "failed", "cancelled")
JOB_TRANSITIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        # claimed by a sweep, or cancelled (opt-out, rule inactive, trip gone) before it ran
        "pending": frozenset({"running", "cancelled"}),
        # finished, or back to pending on lease expiry / deferral (quiet hours, rate limits)
        "running": frozenset({"completed", "failed", "cancelled", "pending"}),
        "completed": frozenset(),
        "failed": frozenset(),
        "cancelled": frozenset(),
    }
)


def _message_status(value: str, name: str) -> MessageStatus:
    if value not in MESSAGE_STATUSES:
        raise ValueError(f"{name} must be one of {', '.join(MESSAGE_STATUSES)}, got {value!r}")
    return cast(MessageStatus, value)


def next_status(current: str, incoming: str) -> MessageStatus | None:
    """The message status after receiving ``incoming``, or ``None`` for no change.

    Raises ``ValueError`` for a status outside the seed's five.
    """
    now, new = _message_status(current, "current"), _message_status(incoming, "incoming")
    if now == "failed" or new == now:
        return None
    if new == "failed":
        return "failed" if now in ("pending", "sent") else None
    return new if MESSAGE_STATUS_RANK[new] > MESSAGE_STATUS_RANK[now] else None


@dataclass(frozen=True)
class ReceiptUpdate:
    """Values to store after a receipt (unchanged fields carry their current value)."""

    status: MessageStatus
    delivered_at: datetime | None
    read_at: datetime | None


def apply_receipt(
    current: str,
    incoming: str,
    at: datetime,
    *,
    delivered_at: datetime | None = None,
    read_at: datetime | None = None,
) -> ReceiptUpdate | None:
    """Apply a status receipt stamped ``at`` to a message; ``None`` when nothing changes.

    ``delivered_at`` / ``read_at`` are the message's current timestamps.
    """
    require_aware(at, "at")
    status = next_status(current, incoming) or _message_status(current, "current")
    new_delivered, new_read = delivered_at, read_at
    if status in ("delivered", "read") and incoming in ("delivered", "read"):
        new_delivered = delivered_at or at
    if status == "read" and incoming == "read":
        new_read = read_at or at
    update = ReceiptUpdate(status=status, delivered_at=new_delivered, read_at=new_read)
    unchanged = ReceiptUpdate(
        status=_message_status(current, "current"), delivered_at=delivered_at, read_at=read_at
    )
    return None if update == unchanged else update


def can_transition_job(current: str, new: str) -> bool:
    """Whether a ``scheduled_jobs`` row may move from ``current`` to ``new``.

    pending → running | cancelled; running → completed | failed | cancelled | pending
    (lease expired or deferred); completed, failed and cancelled are terminal.
    """
    for value, name in ((current, "current"), (new, "new")):
        if value not in JOB_STATUSES:
            raise ValueError(f"{name} job status must be one of {', '.join(JOB_STATUSES)}")
    return new in JOB_TRANSITIONS[current]
