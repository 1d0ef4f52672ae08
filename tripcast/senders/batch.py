"""Senders in a dispatch batch: load them with the claim, route, hold, group by number.

A held message (its number paused, or restricted / RED for marketing) goes back to the
queue unsent with no attempt used, due again after ``HOLD_RECHECK``: it waits, never
fails, and moves as soon as the number is resumed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from tripcast.dispatch import store
from tripcast.dispatch.message_plan import Claimed, Plan, Refuse, Send
from tripcast.dispatch.outcomes import Outcome, deferred, refused
from tripcast.dispatch.tuning import DispatchSettings
from tripcast.senders.registry import Sender, load_senders, seed_default
from tripcast.senders.routing import Senders, hold_reason, route

HOLD_RECHECK = timedelta(seconds=60)


def current_senders(connection: Connection, *, default: str) -> Senders:
    """The sender table now, seeding the default number first when it is empty."""
    seed_default(connection, phone_number_id=default)
    return Senders(by_id=load_senders(connection), default=default)


def route_batch(
    claimed: list[Claimed], senders: Senders, *, now: datetime
) -> tuple[list[Claimed], list[Outcome]]:
    """Each message bound to its number; refusals for an override naming no sender."""
    routed: list[Claimed] = []
    outcomes: list[Outcome] = []
    for message in claimed:
        result = route(message, senders)
        if isinstance(result, str):
            outcomes.append(refused(Refuse(message, result), now=now))
        else:
            routed.append(result)
    return routed, outcomes


def hold_sends(
    plans: list[Plan], senders: Senders, *, now: datetime
) -> tuple[list[Plan], list[Outcome]]:
    """The plans that may go now, and the deferrals of sends whose number holds them."""
    kept: list[Plan] = []
    outcomes: list[Outcome] = []
    for plan in plans:
        number = plan.claimed.sender
        if not isinstance(plan, Send) or number is None:
            kept.append(plan)
        elif reason := hold_reason(senders.get(number), priority=plan.claimed.priority):
            outcomes.append(deferred(plan, now=now, reason=reason, retry_at=now + HOLD_RECHECK))
        else:
            kept.append(plan)
    return kept, outcomes


def by_sender(sends: list[Send]) -> dict[str | None, list[Send]]:
    groups: dict[str | None, list[Send]] = defaultdict(list)
    for send in sends:
        groups[send.claimed.sender].append(send)
    return dict(groups)


def sender_settings(settings: DispatchSettings, sender: Sender) -> DispatchSettings:
    """The dispatch settings for one number: its own rate when it has one (an unpaced
    run stays unpaced)."""
    if settings.send_rate is None or sender.send_rate is None:
        return settings
    return replace(settings, send_rate=sender.send_rate)


def claim_with_senders(
    connection: Connection,
    *,
    now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
    default: str,
) -> tuple[list[uuid.UUID], list[Claimed], Senders]:
    """The expiry pass and the claim, with the sender table as it is now, in one
    transaction: a pause takes effect from the next batch."""
    expired, claimed = store.expire_and_claim(
        connection, now=now, owner=owner, lease=lease, limit=limit
    )
    if not claimed:
        return expired, claimed, Senders({}, default)
    senders = current_senders(connection, default=default)
    if not senders.several:
        return expired, claimed, senders  # one number: routing has nothing to read
    return expired, with_conversations(connection, claimed), senders


def claim_and_route(
    connection: Connection,
    *,
    now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
    default: str,
) -> tuple[list[uuid.UUID], list[Claimed], list[Claimed], list[Outcome], Senders]:
    """``claim_with_senders``, then each message bound to its number. Run in a worker
    thread: routing parses phone numbers, kept off the event loop that times the sends."""
    expired, claimed, senders = claim_with_senders(
        connection, now=now, owner=owner, lease=lease, limit=limit, default=default
    )
    routed, refusals = route_batch(claimed, senders, now=now)
    return expired, claimed, routed, refusals, senders


# Per traveller: the last inbound per business number ('' for rows from before senders
# were recorded), and the number of their latest conversation (inbound, or sent by us).
INBOUND_BY_SENDER = """
SELECT user_id, coalesce(sender_phone_number_id, '') AS sender,
       max(coalesce(delivered_at, created_at)) AS at
FROM public.whatsapp_messages
WHERE user_id = ANY(%(users)s::uuid[]) AND direction = 'inbound'
GROUP BY 1, 2
"""
LAST_SENDER = """
SELECT DISTINCT ON (user_id) user_id, sender_phone_number_id
FROM public.whatsapp_messages
WHERE user_id = ANY(%(users)s::uuid[]) AND sender_phone_number_id IS NOT NULL
  AND (direction = 'inbound' OR sent_at IS NOT NULL)
ORDER BY user_id, created_at DESC
"""
MARKETS = """
SELECT user_id, market FROM public.whatsapp_accounts
WHERE user_id = ANY(%(users)s::uuid[]) AND market IS NOT NULL
"""


def with_conversations(connection: Connection, claimed: list[Claimed]) -> list[Claimed]:
    """The claimed messages with their travellers' conversations per number and
    stored markets."""
    users = {"users": list({message.user_id for message in claimed})}
    inbound: dict[uuid.UUID, dict[str, datetime]] = defaultdict(dict)
    for user_id, number, at in connection.exec_driver_sql(INBOUND_BY_SENDER, users).tuples():
        inbound[user_id][number] = at
    last = dict(connection.exec_driver_sql(LAST_SENDER, users).tuples().all())
    markets = dict(connection.exec_driver_sql(MARKETS, users).tuples().all())
    return [
        replace(
            message,
            last_sender=last.get(message.user_id),
            inbound_by_sender=inbound.get(message.user_id, {}),
            market=markets.get(message.user_id),
        )
        for message in claimed
    ]


def combined_settings(settings: DispatchSettings, senders: Senders | None) -> DispatchSettings:
    """The settings at the sum of the active numbers' rates (the default's at least)."""
    if senders is None or settings.send_rate is None or not senders.several:
        return settings
    rates = [
        sender_settings(settings, sender).send_rate or 0.0
        for number, sender in senders.by_id.items()
        if sender.status == "active" and number != senders.default
    ]
    return replace(settings, send_rate=settings.send_rate + sum(rates))
