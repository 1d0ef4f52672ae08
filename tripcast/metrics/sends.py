"""Counting what a dispatch round wrote: one call from where outcomes become rows."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from tripcast.metrics.registry import SEND_LATENCY, SENDS

if TYPE_CHECKING:
    from tripcast.dispatch.outcomes import AttemptLog, Outcome


def record_sends(
    outcomes: Sequence[Outcome],
    logs: Sequence[AttemptLog],
    *,
    written: Mapping[uuid.UUID, datetime | None],
) -> None:
    """Count the outcomes whose rows were written (``written``: id → created_at).

    Rows not written (another dispatcher's lease by now, or a re-run of a committed
    batch) are not counted, so a batch written twice counts once.
    """
    codes = {log.message_id: _error_label(log) for log in logs if log.status == "failed"}
    for outcome in outcomes:
        if outcome.message_id not in written:
            continue
        code = outcome.error_code
        label = str(code) if code is not None else codes.get(outcome.message_id, "")
        SENDS.labels(outcome=outcome.kind, error_code=label).inc()
        created_at = written[outcome.message_id]
        if outcome.kind == "sent" and outcome.sent_at is not None and created_at is not None:
            SEND_LATENCY.observe(max(0.0, (outcome.sent_at - created_at).total_seconds()))


def _error_label(log: AttemptLog) -> str:
    """Meta's code, else the error family (network, server, ...): few distinct values."""
    if log.error_code is not None:
        return str(log.error_code)
    family = log.provider_response.get("family")
    return str(family) if family else "unknown"
