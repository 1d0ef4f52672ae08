"""Dispatch's reads and writes: each a function over a connection, one statement each.

Whole batches go in one statement (arrays through ``unnest``), never a round trip per
message, and rows come back as plain tuples, never ORM objects.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from tripcast.dispatch import sql
from tripcast.dispatch.marketing_refusals import MARKETING_STOPPED, record_marketing_refusals
from tripcast.dispatch.message_plan import Claimed
from tripcast.dispatch.outcomes import AttemptLog, Outcome
from tripcast.metrics.sends import record_sends

# The expiry pass before a claim fails at most this many rows, so that a claim behind a
# large expired backlog stays short; the next claims take the rest.
EXPIRY_CHUNK = 1000
EXPIRY_CHUNKS_PER_CLAIM = 5

# The batch writes find a thousand rows by id; with the default cost of a random page
# (4, for spinning disks) the planner scans a table of 100,000 rows whole for them, ten
# times slower than the primary key. Set for the writes' own transaction only.
PREFER_INDEX = "SET LOCAL random_page_cost = 1.1"
PREFER_INDEX_FROM = 50

OUTCOME_UNKNOWN = (
    "outcome unknown: the send may have reached WhatsApp, but no status receipt came "
    "within {grace}; not re-sent"
)


def claim_batch(
    connection: Connection, *, now: datetime, owner: str, lease: timedelta, limit: int
) -> list[Claimed]:
    """Lease up to ``limit`` due messages to ``owner``, with what sending them needs."""
    # .all(): one fetch for the batch, not one per row.
    rows = connection.exec_driver_sql(
        sql.CLAIM_DUE_MESSAGES,
        {"now": now, "limit": limit, "owner": owner, "lease_until": now + lease},
    ).all()
    return [
        Claimed(
            id=row.id,
            user_id=row.user_id,
            message_type=row.message_type,
            content=row.content,
            # An application may store any JSON there; only an object can hold a template.
            metadata=row.metadata if isinstance(row.metadata, dict) else {},
            retry_count=row.retry_count,
            phone_number=row.phone_number,
            opt_in_status=row.opt_in_status,
            last_inbound_at=row.last_inbound_at,
            marketing=row.marketing,
            created_at=row.created_at,
            opted_out_at=row.opted_out_at,
            priority=row.priority,
            expires_at=row.expires_at,
            bsuid=row.bsuid,
        )
        for row in rows
    ]


def expire_messages(connection: Connection, *, now: datetime, limit: int = 1000) -> list[uuid.UUID]:
    """Fail up to ``limit`` unsent pending messages whose expiry has come, logging each."""
    rows = connection.exec_driver_sql(sql.EXPIRE_MESSAGES, {"now": now, "limit": limit})
    return [row[0] for row in rows]


def expire_and_claim(
    connection: Connection, *, now: datetime, owner: str, lease: timedelta, limit: int
) -> tuple[list[uuid.UUID], list[Claimed]]:
    """The expiry pass, then the claim, in one transaction."""
    expired: list[uuid.UUID] = []
    for _ in range(EXPIRY_CHUNKS_PER_CLAIM):
        chunk = expire_messages(connection, now=now, limit=EXPIRY_CHUNK)
        expired.extend(chunk)
        if len(chunk) < EXPIRY_CHUNK:
            break
    return expired, claim_batch(connection, now=now, owner=owner, lease=lease, limit=limit)


def mark_send_started(
    connection: Connection,
    ids: Sequence[uuid.UUID],
    *,
    now: datetime,
    owner: str,
    code_expires_at: Mapping[uuid.UUID, datetime] | None = None,
    senders: Mapping[uuid.UUID, str | None] | None = None,
) -> set[uuid.UUID]:
    """Stamp the sends about to go out; returns those still pending and allowed to go.

    ``code_expires_at`` names the verification codes among ``ids`` with their expiry
    (``Send.expires_at``): they may go to accounts not opted in yet, but only while alive.
    """
    if not ids:
        return set()
    expiries = code_expires_at or {}
    params = {
        "ids": list(ids),
        "code_expires_at": [expiries.get(message_id) for message_id in ids],
        # The number each goes from, recorded with the mark (before the POST).
        "senders": [(senders or {}).get(message_id) for message_id in ids],
        "now": now,
        "owner": owner,
    }
    if len(ids) >= PREFER_INDEX_FROM:
        # Only for waves: a paced send's mark, a few ids, has its slot to keep and
        # is planned through the primary key anyway.
        connection.exec_driver_sql(PREFER_INDEX)
    return set(connection.exec_driver_sql(sql.MARK_SEND_STARTED, params).scalars().all())


def write_outcomes(
    connection: Connection,
    outcomes: Sequence[Outcome],
    logs: Sequence[AttemptLog],
    *,
    owner: str,
) -> set[uuid.UUID]:
    """The batch's row updates and delivery logs in one statement; idempotent.

    Returns the rows written (those still under ``owner``'s lease).
    """
    if not outcomes:
        return set()
    params = _outcome_params(outcomes, owner) | _log_params(logs)
    connection.exec_driver_sql(PREFER_INDEX)
    written = dict(connection.exec_driver_sql(sql.WRITE_OUTCOMES, params).tuples().all())
    # Counted before the commit: a commit that fails and is retried may count a batch
    # twice, a rare over-count preferred to a second round trip per batch.
    record_sends(outcomes, logs, written=written)
    refused = [o.message_id for o in outcomes if o.error_code == MARKETING_STOPPED]
    if refused:  # Meta's consent signal: the traveller stopped marketing in WhatsApp
        moment = next(o.failed_at for o in outcomes if o.failed_at is not None)
        record_marketing_refusals(connection, message_ids=refused, now=moment)
    return set(written)


def _outcome_params(outcomes: Sequence[Outcome], owner: str) -> dict[str, object]:
    return {
        "ids": [o.message_id for o in outcomes],
        "statuses": [o.status for o in outcomes],
        "external_ids": [o.external_id for o in outcomes],
        "sent_at": [o.sent_at for o in outcomes],
        "failed_at": [o.failed_at for o in outcomes],
        "failed_reasons": [o.failed_reason for o in outcomes],
        "error_codes": [o.error_code for o in outcomes],
        "retry_counts": [o.retry_count for o in outcomes],
        "next_attempt_at": [o.next_attempt_at for o in outcomes],
        "keep_started": [o.keep_started for o in outcomes],
        "owner": owner,
    }


def _log_params(logs: Sequence[AttemptLog]) -> dict[str, object]:
    return {
        "log_user_ids": [log.user_id for log in logs],
        "log_message_ids": [log.message_id for log in logs],
        "log_recipients": [log.recipient for log in logs],
        "log_statuses": [log.status for log in logs],
        "log_responses": [json.dumps(log.provider_response, default=str) for log in logs],
        "log_errors": [log.error_message for log in logs],
        "log_attempts": [log.attempt for log in logs],
        "log_error_codes": [log.error_code for log in logs],
        "log_created_at": [log.at for log in logs],
    }


def reserve_slots(
    connection: Connection, *, phone_number_id: str, span: float, lead: float = 0.0
) -> float:
    """Reserve ``span`` seconds of the shared schedule, starting ``lead`` seconds from now
    at the earliest; returns the seconds until its first slot."""
    first_in = connection.exec_driver_sql(
        sql.RESERVE_SLOTS, {"phone_number_id": phone_number_id, "span": span, "lead": lead}
    ).scalar_one()
    return float(first_in)


def push_schedule(connection: Connection, *, phone_number_id: str, pause: float) -> None:
    connection.exec_driver_sql(
        sql.PUSH_SCHEDULE, {"phone_number_id": phone_number_id, "pause": pause}
    )


def expire_in_doubt(
    connection: Connection, *, now: datetime, grace: timedelta, limit: int = 1000
) -> list[uuid.UUID]:
    """Fail up to ``limit`` in-doubt sends older than ``grace`` as outcome unknown."""
    rows = connection.exec_driver_sql(
        sql.EXPIRE_IN_DOUBT,
        {
            "now": now,
            "cutoff": now - grace,
            "limit": limit,
            "reason": OUTCOME_UNKNOWN.format(grace=_readable(grace)),
        },
    )
    return [row[0] for row in rows]


def release_orphaned_leases(
    connection: Connection, *, now: datetime, limit: int = 1000
) -> list[uuid.UUID]:
    """Release dead dispatchers' settled rows, logging their attempts; returns those ids."""
    rows = connection.exec_driver_sql(sql.RELEASE_ORPHANED_LEASES, {"now": now, "limit": limit})
    return [row[0] for row in rows]


def _readable(span: timedelta) -> str:
    minutes, seconds = divmod(int(span.total_seconds()), 60)
    if seconds or not minutes:
        return f"{int(span.total_seconds())} s"
    return f"{minutes} min"
