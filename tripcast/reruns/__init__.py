"""Reruns: failed outbound messages re-queued in bulk, as the same rows.

Public API (no Prefect import here; the tasks live in ``tripcast.tasks.reruns``)::

    selection = Selection(since=..., templates=["trip_reminder"], error_codes=[130429])
    report = requeue_failed(engine, selection, now=now, dry_run=True)
    report = requeue_failed(engine, selection, now=now, operator="ana", note="template fixed")

Which rows are excluded, and why, is ``tripcast.reruns.reasons``.
"""

from tripcast.reruns.requeue import ReasonCount, RerunReport, preview, requeue_failed
from tripcast.reruns.selection import InvalidSelection, Selection

__all__ = [
    "InvalidSelection",
    "ReasonCount",
    "RerunReport",
    "Selection",
    "preview",
    "requeue_failed",
]
