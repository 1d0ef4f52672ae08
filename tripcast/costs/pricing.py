"""Meta's ``pricing`` and ``conversation`` objects of a status receipt, read tolerantly.

Pure functions, no I/O. Under per-message pricing (PMP, since July 2025) a status carries
``pricing: {billable, pricing_model, category, type}``, ``type`` being ``regular``
(charged), ``free_customer_service`` (a non-template reply inside the 24-hour window)
or ``free_entry_point`` (inside a free entry point window, with a ``conversation``).
Older conversation-based receipts (CBP) carry no ``type``. ``billable`` is deprecated
but still sent; when absent it follows ``type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import phonenumbers

UNKNOWN_COUNTRY = "ZZ"  # CLDR's code for an unknown region, as phonenumbers uses it


@dataclass(frozen=True, slots=True)
class Pricing:
    billable: bool
    category: str
    pricing_model: str | None = None
    pricing_type: str | None = None
    conversation_id: str | None = None
    conversation_origin: str | None = None
    conversation_expires_at: datetime | None = None


def pricing_of(status: Mapping[str, Any]) -> Pricing | None:
    """The pricing a status object carries, or None when it carries none usable."""
    pricing = status.get("pricing")
    if not isinstance(pricing, dict):
        return None
    category = _text(pricing.get("category"))
    if category is None:
        return None  # nothing to price by
    pricing_type = _text(pricing.get("type"))
    billable = pricing.get("billable")
    if not isinstance(billable, bool):
        billable = pricing_type == "regular"
    conversation = status.get("conversation")
    conversation = conversation if isinstance(conversation, dict) else {}
    origin = conversation.get("origin")
    return Pricing(
        billable=billable,
        category=category.lower(),
        pricing_model=_text(pricing.get("pricing_model")),
        pricing_type=pricing_type,
        conversation_id=_text(conversation.get("id")),
        conversation_origin=_text(origin.get("type")) if isinstance(origin, dict) else None,
        conversation_expires_at=_epoch(conversation.get("expiration_timestamp")),
    )


@lru_cache(maxsize=4096)
def destination_country(phone_number: str | None) -> str:
    """ISO 3166 region of an E.164 number (digits, no ``+``); ``ZZ`` when unknown.

    Several regions share a calling code (+1, +7, +44...): the full number decides,
    and a number no region claims falls back to the code's main region.
    """
    if not phone_number:
        return UNKNOWN_COUNTRY
    try:
        number = phonenumbers.parse(f"+{phone_number.removeprefix('+')}")
    except phonenumbers.NumberParseException:
        return UNKNOWN_COUNTRY
    region = phonenumbers.region_code_for_number(number)
    if region is None:
        region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return str(region) if region and region != "001" else UNKNOWN_COUNTRY


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _epoch(value: Any) -> datetime | None:
    try:
        seconds = int(str(value))
        return datetime.fromtimestamp(seconds, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
