"""The template catalog refresh: ``GET message_templates`` into ``whatsapp_templates``.

Webhooks keep the catalog current between runs; the refresh catches what they cannot
(a template created or edited in WhatsApp Manager, a webhook subscription missing).
Without ``TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID`` there is nothing to list: the run says
so in its log and its summary, and the catalog is left as it is.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger

from tripcast.flows.timing import run_name
from tripcast.rules.clock import resolve_now
from tripcast.tasks.automations import publish_summary
from tripcast.tasks.templates import sync_template_catalog

NOT_CONFIGURED = "TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID is not set: the catalog was not refreshed"


@flow(name="template-catalog", flow_run_name=run_name("template-catalog"))
def refresh_template_catalog(now: datetime | None = None) -> dict[str, int]:
    """Refresh the template catalog from the Cloud API; counts new, changed, unchanged, gone."""
    counts = sync_template_catalog(resolve_now(now))
    if counts is None:
        get_run_logger().warning(NOT_CONFIGURED)
        publish_summary(
            key="template-catalog-summary",
            rows=[{"outcome": "skipped", "count": 0, "note": NOT_CONFIGURED}],
            description="Template catalog refresh",
        )
        return {}
    publish_summary(
        key="template-catalog-summary",
        rows=[{"outcome": key, "count": value, "note": ""} for key, value in counts.items()],
        description="Template catalog refresh",
    )
    return counts
