"""The senders' hourly refresh: each number's quality rating, messaging-limit tier and
throughput level read from the Cloud API into ``whatsapp_senders``.

Webhooks keep the senders current between runs; the read catches what they cannot (a
number added by hand, a delivery missed). Without ``TRIPCAST_WHATSAPP_ACCESS_TOKEN``
nothing can be read: the run says so in its log and its summary.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger

from tripcast.flows.timing import run_name
from tripcast.rules.clock import resolve_now
from tripcast.tasks.automations import publish_summary
from tripcast.tasks.senders import sync_sender_states

NOT_CONFIGURED = "TRIPCAST_WHATSAPP_ACCESS_TOKEN is not set: the senders were not read"
KEY = "sender-sync-summary"


@flow(name="sender-sync", flow_run_name=run_name("sender-sync"))
def refresh_senders(now: datetime | None = None) -> dict[str, int]:
    """Read every sender from the Cloud API; counts read and refused."""
    result = sync_sender_states(resolve_now(now))
    if result is None:
        get_run_logger().warning(NOT_CONFIGURED)
        rows = [{"outcome": "skipped", "count": 0, "note": NOT_CONFIGURED}]
        publish_summary(key=KEY, rows=rows, description="Sender sync")
        return {}
    for line in result["refused"]:
        get_run_logger().warning("sender %s", line)
    rows = [
        {"outcome": outcome, "count": 1, "note": line}
        for outcome in ("read", "refused")
        for line in result[outcome]
    ]
    publish_summary(key=KEY, rows=rows, description="Sender sync")
    return {"read": len(result["read"]), "refused": len(result["refused"])}
