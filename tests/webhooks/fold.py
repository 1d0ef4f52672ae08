"""The reference semantics of applying one batch of receipts to a message, in Python.

The ingest applies receipts set-based in SQL (``receipts.APPLY``); this module states
what that SQL must compute, on top of ``tripcast.rules.statuses``, and the tests check
that both agree on arbitrary states and receipts.

Within one batch the receipts of a message are applied in Meta's order: by timestamp,
then sent < delivered < read < failed at equal timestamps (the order WhatsApp emits
them), so a batch that holds a whole shuffled, duplicated history ends exactly where the
in-order history would. Across batches, arrival order decides, as ``apply_receipt``
says (a ``read`` applied before its ``delivered`` fills ``delivered_at`` with its time).

Beyond ``apply_receipt``, tripcast's own timestamps: ``sent_at`` is filled by the first
sent / delivered / read receipt applied to a message that is not failed (a read message
was sent); ``failed_at`` by the failed receipt that failed it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from tripcast.rules.statuses import apply_receipt, next_status
from tripcast.webhooks.extract import RECEIPT_RANK


@dataclass(frozen=True)
class MessageState:
    status: str
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    failed_at: datetime | None = None


@dataclass(frozen=True)
class ReceiptEvent:
    status: str
    at: datetime
    seq: int = 0  # arrival order, the last tie-breaker


def batch_order(receipts: Iterable[ReceiptEvent]) -> list[ReceiptEvent]:
    return sorted(receipts, key=lambda r: (r.at, RECEIPT_RANK[r.status], r.seq))


def apply_one(state: MessageState, receipt: ReceiptEvent) -> MessageState:
    """One receipt, as ``apply_receipt`` rules, plus sent_at / failed_at."""
    if state.status == "failed":
        return state  # terminal: not even a timestamp changes
    if receipt.status == "failed":
        if next_status(state.status, "failed") is None:
            return state  # delivered or read already: a late failure changes nothing
        return replace(state, status="failed", failed_at=state.failed_at or receipt.at)
    update = apply_receipt(
        state.status,
        receipt.status,
        receipt.at,
        delivered_at=state.delivered_at,
        read_at=state.read_at,
    )
    state = replace(state, sent_at=state.sent_at or receipt.at)
    if update is None:
        return state
    return replace(
        state, status=update.status, delivered_at=update.delivered_at, read_at=update.read_at
    )


def fold_batch(state: MessageState, receipts: Iterable[ReceiptEvent]) -> MessageState:
    """The state after one ingest batch holding ``receipts`` for this message."""
    for receipt in batch_order(receipts):
        state = apply_one(state, receipt)
    return state
