"""The ingest: stored deliveries applied in batches, each batch one transaction.

A batch claims received deliveries with ``FOR UPDATE SKIP LOCKED`` (so several ingesters
share the work and a crashed one's batch simply rolls back and is claimed again), plus
kept receipts that are due for a retry, applies their statuses, inbound messages and
consent keywords, and marks the deliveries applied, all before one commit.

An item that can never be applied (a status with a timestamp past year 9999, an error
code beyond an integer) is recorded in ``webhook_review_items`` with its reason and the
delivery's other items are applied; what tripcast does not use (other webhook fields,
statuses such as ``played``) stays in the stored delivery and is counted in the report.
A payload whose envelope is broken is rejected with its reason. A delivery that makes the batch fail
for any other non-transient reason is isolated: the batch is retried delivery by
delivery (savepoints), and the failing one is retried later with backoff, then
rejected after ``max_attempts`` with its last error: nothing is dropped silently, and one
bad delivery cannot hold up the rest. Transient database errors propagate, for the
caller (the Prefect task, the follow loop) to retry the whole batch.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tripcast.costs.record import record_pricing
from tripcast.dispatch.marketing_refusals import MARKETING_STOPPED, record_marketing_refusals
from tripcast.senders.events import apply_sender_webhooks
from tripcast.templates.events import apply_template_webhooks
from tripcast.transient import is_transient_database_error
from tripcast.webhooks import sql
from tripcast.webhooks.batch_report import IngestReport
from tripcast.webhooks.extract import Extracted, MalformedDelivery, extract, receipt_from_raw
from tripcast.webhooks.identity import apply_identities
from tripcast.webhooks.inbound import apply_inbound
from tripcast.webhooks.receipts import RetryPolicy, apply_receipts, claim_backlog
from tripcast.webhooks.review import apply_notices
from tripcast.webhooks.stop_start import apply_consent
from tripcast.webhooks.user_preferences import apply_marketing_signals, marketing_signals

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestPolicy:
    batch_size: int = 100  # deliveries per batch (each carries up to 1,000 updates)
    backlog_batch: int = 1000  # kept receipts retried per batch
    receipts: RetryPolicy = field(default_factory=RetryPolicy)
    max_attempts: int = 5  # a delivery failing to apply this often is rejected


@dataclass
class _Claimed:
    id: uuid.UUID
    payload: dict[str, Any]
    attempts: int


def ingest_once(
    engine: Engine,
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    policy: IngestPolicy | None = None,
) -> IngestReport:
    """Apply one batch of stored deliveries and due kept receipts; one transaction."""
    policy = policy or IngestPolicy()
    now = now or datetime.now(UTC)
    limit = batch_size or policy.batch_size
    with engine.begin() as connection:
        rows = connection.exec_driver_sql(sql.CLAIM_DELIVERIES, {"now": now, "limit": limit})
        claimed = [_Claimed(*row) for row in rows]
        backlog = claim_backlog(connection, now=now, limit=policy.backlog_batch)
        report = IngestReport(deliveries=len(claimed), backlog_retried=len(backlog))
        if report.idle:
            return report
        try:
            with connection.begin_nested():
                _apply(connection, claimed, backlog, report, now=now, policy=policy)
        except Exception as error:
            if is_transient_database_error(error):
                raise
            log.warning("batch failed (%s); applying its deliveries one by one", _one_line(error))
            report = _apply_one_by_one(connection, claimed, backlog, now=now, policy=policy)
    return report


def drain(
    engine: Engine,
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    policy: IngestPolicy | None = None,
    max_batches: int = 10_000,
) -> IngestReport:
    """Apply every delivery stored so far (``tripcast ingest``): batches until idle."""
    total = IngestReport()
    for _ in range(max_batches):
        report = ingest_once(engine, now=now, batch_size=batch_size, policy=policy)
        total += report
        if report.idle:
            break
    return total


def prune_applied(
    engine: Engine, *, older_than: timedelta, now: datetime | None = None, batch: int = 10_000
) -> int:
    """Delete applied deliveries processed before ``now - older_than``; how many went.

    Rejected deliveries stay for review; what applying left behind (unmatched receipts,
    unknown senders) keeps its own copy of the payload.
    """
    cutoff = (now or datetime.now(UTC)) - older_than
    deleted = 0
    while True:  # short transactions: the receiver keeps inserting meanwhile
        with engine.begin() as connection:
            count = connection.exec_driver_sql(
                sql.PRUNE_DELIVERIES, {"cutoff": cutoff, "batch": batch}
            ).rowcount
        deleted += count
        if count < batch:
            return deleted


def _apply(
    connection: Connection,
    claimed: Sequence[_Claimed],
    backlog: Sequence[dict[str, Any]],
    report: IngestReport,
    *,
    now: datetime,
    policy: IngestPolicy,
) -> None:
    work = Extracted()
    statuses: list[str] = []
    errors: list[str | None] = []
    for delivery in claimed:
        try:
            found = extract(delivery.payload, delivery_id=delivery.id)
        except MalformedDelivery as error:
            statuses.append("rejected")
            errors.append(str(error))
            report.rejected += 1
            continue
        work.receipts += found.receipts
        work.inbound += found.inbound
        work.notices += found.notices
        work.rejected += found.rejected
        work.identities += found.identities
        report.unused.update(found.unused)
        statuses.append("applied")
        errors.append(None)
    for kept in backlog:
        work.receipts.append(receipt_from_raw(kept["payload"], backlog_id=kept["id"]))
    identities = apply_identities(connection, work.identities, now=now)
    report.add_identities(identities)
    work.inbound = identities.linked + work.inbound  # sent before anything in this batch
    report.add_receipts(apply_receipts(connection, work.receipts, now=now, policy=policy.receipts))
    record_pricing(connection, work.receipts)
    inbound = apply_inbound(connection, work.inbound)
    report.add_inbound(inbound)
    report.add_notices(apply_notices(connection, work.notices, work.rejected))
    report.add_consent(apply_consent(connection, inbound.keywords, now=now))
    applied = [
        d.payload for d, status in zip(claimed, statuses, strict=True) if status == "applied"
    ]
    report.template_updates += apply_template_webhooks(connection, applied, now=now)
    report.add_marketing(apply_marketing_signals(connection, marketing_signals(applied)))
    refused = [r.wamid for r in work.receipts if r.error_code == MARKETING_STOPPED]
    report.marketing_stopped += record_marketing_refusals(connection, wamids=refused, now=now)
    report.sender_updates += apply_sender_webhooks(
        connection, applied, now=now, unused=report.unused
    )
    params = {"now": now, "ids": [d.id for d in claimed], "statuses": statuses, "errors": errors}
    connection.exec_driver_sql(sql.MARK_DELIVERIES, params)


def _apply_one_by_one(
    connection: Connection,
    claimed: Sequence[_Claimed],
    backlog: Sequence[dict[str, Any]],
    *,
    now: datetime,
    policy: IngestPolicy,
) -> IngestReport:
    report = IngestReport(deliveries=len(claimed), backlog_retried=len(backlog))
    units: list[tuple[list[_Claimed], list[dict[str, Any]]]] = [([d], []) for d in claimed]
    units += [([], [kept]) for kept in backlog]
    for deliveries, kept in units:
        unit = IngestReport()
        try:
            with connection.begin_nested():
                _apply(connection, deliveries, kept, unit, now=now, policy=policy)
            report += unit  # a unit rolled back to its savepoint counts as failed only
        except Exception as error:
            if is_transient_database_error(error):
                raise
            report.failed += 1
            if deliveries:
                _postpone(connection, deliveries[0], error, now=now, policy=policy)
            else:
                reason = f"failed to apply: {_one_line(error)}"
                connection.exec_driver_sql(
                    sql.GIVE_UP_KEPT, {"id": kept[0]["id"], "now": now, "reason": reason}
                )
    return report


def _postpone(
    connection: Connection,
    delivery: _Claimed,
    error: Exception,
    *,
    now: datetime,
    policy: IngestPolicy,
) -> None:
    reason = _one_line(error)
    log.error(
        "delivery %s failed to apply (attempt %d): %s", delivery.id, delivery.attempts + 1, reason
    )
    retry = policy.receipts
    connection.exec_driver_sql(
        sql.POSTPONE_DELIVERIES,
        {
            "id": delivery.id,
            "error": reason,
            "now": now,
            "max_attempts": policy.max_attempts,
            "first_delay": max(retry.first_delay, timedelta(seconds=1)),
            "cap": retry.cap,
        },
    )


def _one_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__
