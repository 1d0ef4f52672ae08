"""Settling in-doubt sends from status webhooks.

Every send carries ``biz_opaque_callback_data`` = the message's id, and Meta echoes it
in each status update. A status applies to the row whose ``external_id`` is the
status's wamid; when no row has that wamid yet (the send's answer was lost, or the
receipt overtook the dispatcher's own write), the callback data names the row: a
still-pending message adopts the wamid and the status. Dispatch never claims a row
that is no longer pending, and never re-sends a pending row whose ``send_started_at``
is set.

``reconcile_from_statuses`` does that for receipts one has in hand. The webhook ingest
(``tripcast.webhooks.receipts``) applies receipts set-based with its own status fold,
and both log the settled send attempt by one rule, ``sql.LOG_SETTLED_ATTEMPTS``: each
attempt ends with exactly one log carrying its final word ('sent' or 'failed'), written
here unless a dispatcher holding the row writes it (``sql.attempt_verdict``). A receipt
whose wamid belongs to a send a rerun superseded is ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from tripcast.dispatch import sql
from tripcast.rules.statuses import MESSAGE_STATUS_RANK

RECEIPT_STATUSES = ("sent", "delivered", "read", "failed")


@dataclass(frozen=True)
class Receipt:
    """One status update: ``callback_data`` is the webhook's biz_opaque_callback_data."""

    callback_data: str | None
    wamid: str
    status: str
    at: datetime
    error_code: int | None = None
    error_message: str | None = None

    @property
    def message_id(self) -> uuid.UUID | None:
        """Our message id, or None when the callback data is not one of ours."""
        try:
            return uuid.UUID(self.callback_data or "")
        except ValueError:
            return None


def _most_advanced(receipts: Iterable[Receipt]) -> dict[uuid.UUID, Receipt]:
    """Per message, the receipt that wins (rules/statuses.py: failed only before delivery)."""
    best: dict[uuid.UUID, Receipt] = {}
    for receipt in receipts:
        message_id = receipt.message_id
        if message_id is None or receipt.status not in RECEIPT_STATUSES:
            continue
        current = best.get(message_id)
        if current is None or _rank(receipt) > _rank(current):
            best[message_id] = receipt
    return best


def _rank(receipt: Receipt) -> float:
    # failed sits between sent and delivered: it overrides sent, never delivered or read.
    return 1.5 if receipt.status == "failed" else MESSAGE_STATUS_RANK[receipt.status]


def reconcile_from_statuses(connection: Connection, receipts: Iterable[Receipt]) -> set[uuid.UUID]:
    """Apply receipts to still-pending messages matched by callback data; one statement.

    Returns the ids of messages it changed. A failed receipt fails the message with
    Meta's code and message ("131026: Message undeliverable"). Logs the settled attempt's
    verdict (see the module docstring) and, for a delivered message, its delivery.
    """
    chosen = list(_most_advanced(receipts).items())
    if not chosen:
        return set()
    params = {
        "ids": [message_id for message_id, _ in chosen],
        "wamids": [receipt.wamid for _, receipt in chosen],
        "statuses": [receipt.status for _, receipt in chosen],
        "at": [receipt.at for _, receipt in chosen],
        "failed_reasons": [_failed_reason(receipt) for _, receipt in chosen],
        "error_codes": [receipt.error_code for _, receipt in chosen],
    }
    return {row[0] for row in connection.exec_driver_sql(sql.RECONCILE_PENDING, params)}


def reconcile_from_status(
    connection: Connection,
    *,
    message_id: uuid.UUID | str,
    wamid: str,
    status: str,
    at: datetime,
    error_code: int | None = None,
    error_message: str | None = None,
) -> bool:
    """One receipt: True when the pending message ``message_id`` took it."""
    receipt = Receipt(str(message_id), wamid, status, at, error_code, error_message)
    return bool(reconcile_from_statuses(connection, [receipt]))


def _failed_reason(receipt: Receipt) -> str | None:
    if receipt.status != "failed":
        return None
    text = receipt.error_message or "failed after WhatsApp accepted it"
    return f"{receipt.error_code}: {text}" if receipt.error_code is not None else text
