"""What the fake says a message costs, in the shape of Meta's per-message pricing (PMP).

A status's ``pricing`` is ``{billable, pricing_model: "PMP", category, type}``. Free-form
text only goes out inside the customer service window: ``service``, free
(``free_customer_service``). A template is charged by its category (``regular``), except
a utility template sent inside an open window, which Meta does not charge either.
"""

from __future__ import annotations

from typing import Any

from tripcast.whatsapp.fake.config import FakeCloudApiConfig

FREE_IN_WINDOW = "free_customer_service"


def pricing_for(
    *, message_type: str, template_name: str | None, config: FakeCloudApiConfig, window_open: bool
) -> dict[str, Any]:
    if message_type != "template":
        return _pricing("service", FREE_IN_WINDOW)
    known = (config.templates or {}).get(template_name or "")
    category = known.category.lower() if known is not None else "utility"
    if category == "utility" and window_open:
        return _pricing(category, FREE_IN_WINDOW)
    return _pricing(category, "regular")


def _pricing(category: str, kind: str) -> dict[str, Any]:
    return {
        "billable": kind == "regular",
        "pricing_model": "PMP",
        "category": category,
        "type": kind,
    }
