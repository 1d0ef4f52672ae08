"""Business-scoped user IDs: learned from webhooks, and unknown senders linked by them.

Since April 2026 Meta puts the traveller's BSUID (``contacts[].user_id``,
``messages[].from_user_id``, ``statuses[].recipient_user_id``) in every messages webhook,
and may leave the phone number out for a traveller who adopted a username. A webhook
that carries both the phone number and the BSUID teaches the account with that number
its BSUID (and username); from then on, inbound messages, STOP / START and statuses
that carry only the BSUID are matched through it, and dispatch can send to it.

A BSUID already held by another account is left where it is (unique when set): the
conflict is logged, never applied half-way. Messages kept from unknown senders whose
BSUID an account just learned are linked to it and returned, to be stored as that
account's inbound messages (their STOP / START then count, in the order sent).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from tripcast.webhooks import sql
from tripcast.webhooks.contacts import Identity
from tripcast.webhooks.extract import Inbound, inbound_from
from tripcast.whatsapp.webhook import InboundMessage

log = logging.getLogger(__name__)


@dataclass
class IdentityOutcome:
    learned: int = 0  # accounts that learned (or changed) their BSUID or username
    conflicts: int = 0  # a BSUID already held by another account: not applied
    linked: list[Inbound] = field(default_factory=list)  # unknown senders now known


def apply_identities(
    connection: Connection, identities: Sequence[Identity], *, now: datetime
) -> IdentityOutcome:
    """Learn BSUIDs and usernames and link unknown senders, in the caller's transaction."""
    outcome = IdentityOutcome()
    if not identities:
        return outcome
    latest = {identity.bsuid: identity for identity in identities}  # the last one wins
    paired = [i for i in latest.values() if i.wa_id]
    named = [i for i in latest.values() if not i.wa_id and i.username]
    numbers = [i.wa_id for i in paired]
    bsuids = [i.bsuid for i in paired]
    all_bsuids = list(latest)
    connection.exec_driver_sql(
        sql.LOCK_IDENTITY_ACCOUNTS, {"numbers": numbers, "bsuids": all_bsuids}
    ).all()
    pairs = {"numbers": numbers, "bsuids": bsuids, "usernames": [i.username for i in paired]}
    learned = connection.exec_driver_sql(sql.LEARN_IDENTITIES, pairs).all()
    outcome.learned = len(learned)
    for account_id, bsuid in connection.exec_driver_sql(sql.BSUID_CONFLICTS, pairs):
        outcome.conflicts += 1
        log.warning("BSUID %s is held by another account; account %s keeps its own", bsuid,
                    account_id)  # fmt: skip
    if named:
        names = {"bsuids": [i.bsuid for i in named], "usernames": [i.username for i in named]}
        outcome.learned += connection.exec_driver_sql(sql.RENAME_USERNAMES, names).rowcount
    rows = connection.exec_driver_sql(
        sql.LINK_UNKNOWN_SENDERS, {"now": now, "bsuids": all_bsuids}
    ).all()
    outcome.linked = [_relinked(*row) for row in rows]
    if outcome.linked:
        log.info("%d messages from unknown senders linked by BSUID", len(outcome.linked))
    return outcome


def _relinked(
    payload: dict[str, Any], phone_number_id: str | None, name: str | None, delivery_id: Any
) -> Inbound:
    message = InboundMessage.model_validate(payload)
    return inbound_from(
        message,
        payload,
        phone_number_id=phone_number_id or "",
        names={message.sender_user_id or "": name},
        delivery_id=delivery_id,
    )
