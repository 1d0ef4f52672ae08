"""Applying notices (number and identity changes, edits, revokes) and recording review items.

Notices are few (a traveller changes number rarely, edits a message now and then), so
they are applied one statement each, after the batch's inbound messages are stored (an
edit can follow its original in the same delivery). Each is applied once: a notice is
keyed by its own wamid in ``webhook_review_items`` or, for edits and revokes that found
their message, guarded by the time it carries.

- a number change moves the account of the old number to the new one (E.164 digits,
  normalised and validated), unless another account already has it; either way a
  ``number_changed`` row says what happened;
- an identity change (WhatsApp's security code for the number changed) is recorded as
  ``identity_changed`` for a person to check; other system notices as ``system``;
- an edit replaces the content of the traveller's own inbound message and keeps the first
  content in ``metadata.original_content`` (with ``edited_at``); a revoke sets
  ``metadata.revoked_at``. One naming a message tripcast does not hold from that sender is
  recorded as ``edit`` / ``revoke`` for review.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb
from sqlalchemy.engine import Connection

from tripcast.webhooks import sql
from tripcast.webhooks.notices import Notice, ReviewItem
from tripcast.whatsapp.phone import InvalidPhoneNumber, country_code_of, mask_phone, normalize_phone

log = logging.getLogger(__name__)


@dataclass
class NoticeOutcome:
    applied: Counter[str] = field(default_factory=Counter)  # by kind
    review_items: int = 0  # new rows in webhook_review_items
    items_rejected: int = 0


def apply_notices(
    connection: Connection, notices: Sequence[Notice], rejected: Sequence[ReviewItem]
) -> NoticeOutcome:
    """Apply one batch's notices and record its rejected items, in the caller's transaction."""
    outcome = NoticeOutcome(items_rejected=len(rejected))
    for item in rejected:
        if record(connection, item) is not None:
            outcome.review_items += 1
    if rejected:  # one line per batch: a signed delivery of 1,000 bad items is one line too
        first = rejected[0]
        log.warning(
            "%d webhook items rejected and kept for review, first at %s: %s",
            len(rejected),
            first.path,
            first.reason[:200],
        )
    for notice in notices:
        if notice.kind in ("edit", "revoke"):
            _amend(connection, notice, outcome)
        else:
            _notice(connection, notice, outcome)
    return outcome


def record(connection: Connection, item: ReviewItem) -> object | None:
    """Insert a review row; its id, or None when the same item is already recorded."""
    params = {
        "kind": item.kind,
        "key": item.item_key,
        "delivery": item.delivery_id,
        "path": item.path,
        "sender": item.sender,
        "reason": item.reason,
        "payload": Jsonb(item.raw),
        "at": item.at,
    }
    return connection.exec_driver_sql(sql.RECORD_REVIEW_ITEM, params).scalar()


def _review(notice: Notice, reason: str) -> ReviewItem:
    return ReviewItem(
        kind=notice.kind,
        item_key=notice.wamid,
        reason=reason,
        raw=notice.raw,
        path=notice.path,
        sender=notice.sender or notice.sender_user_id,
        at=notice.at,
        delivery_id=notice.delivery_id,
    )


def _notice(connection: Connection, notice: Notice, outcome: NoticeOutcome) -> None:
    row_id = record(connection, _review(notice, "recorded for review"))
    if row_id is None:
        return  # seen before: applied (or not) then
    outcome.review_items += 1
    outcome.applied[notice.kind] += 1
    if notice.kind == "number_changed":
        reason = _change_number(connection, notice)
        connection.exec_driver_sql(sql.SET_REVIEW_REASON, {"id": row_id, "reason": reason})
    elif notice.kind == "identity_changed":
        reason = "WhatsApp reports a new identity (security code) for this number: check it"
        connection.exec_driver_sql(sql.SET_REVIEW_REASON, {"id": row_id, "reason": reason})


def _change_number(connection: Connection, notice: Notice) -> str:
    try:
        new = normalize_phone(notice.target or "")
        country = country_code_of(new)
    except InvalidPhoneNumber as error:
        return f"not applied: the new number is not usable ({error})"
    params = {"old": notice.sender, "bsuid": notice.sender_user_id, "new": new, "country": country}
    moved = connection.exec_driver_sql(sql.CHANGE_NUMBER, params).scalar()
    if moved is not None:
        log.info("account %s changed number to %s", moved, mask_phone(new))
        return f"applied: account {moved} now has number {new}"
    return (
        "not applied: no account has the old number, or another account already has "
        f"{mask_phone(new)}"
    )


def _amend(connection: Connection, notice: Notice, outcome: NoticeOutcome) -> None:
    found = connection.exec_driver_sql(
        sql.FIND_ORIGINAL,
        {"target": notice.target, "sender": notice.sender, "bsuid": notice.sender_user_id},
    ).scalar()
    if found is None:
        reason = (
            f"not applied: message {notice.target or '(none named)'} is not one tripcast "
            "holds from this sender"
        )
        if record(connection, _review(notice, reason)) is not None:
            outcome.review_items += 1
        return
    params = {"id": found, "at": notice.at, "wamid": notice.wamid, "content": notice.content}
    changed = connection.exec_driver_sql(
        sql.EDIT_MESSAGE if notice.kind == "edit" else sql.REVOKE_MESSAGE, params
    )
    outcome.applied[notice.kind] += changed.rowcount
