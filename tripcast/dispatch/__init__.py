"""Dispatch: queued outbound WhatsApp messages sent once each, at the shared rate.

Public API (no Prefect import here; the Prefect task lives in ``tripcast.tasks.dispatch``)::

    report = await dispatch_pending(engine, client=client, settings=DispatchSettings())
    report = run_dispatch(engine, client_factory=lambda: WhatsAppClient.from_settings(s))

``DispatchStopped`` is raised when WhatsApp refuses the account (190 ...), after the
run recorded everything. Sends in doubt are settled from their status receipts by the
webhook ingest (``tripcast.webhooks.receipts``, logging by ``sql.LOG_SETTLED_ATTEMPTS``).
"""

from tripcast.dispatch.dispatcher import dispatch_pending, run_dispatch, utc_now
from tripcast.dispatch.run_report import DispatchReport
from tripcast.dispatch.stopped import DispatchStopped
from tripcast.dispatch.tuning import DispatchSettings

__all__ = [
    "DispatchReport",
    "DispatchSettings",
    "DispatchStopped",
    "dispatch_pending",
    "run_dispatch",
    "utc_now",
]
