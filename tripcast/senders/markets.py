"""A traveller's stored market: an ISO 3166 alpha-2 country, validated and stored.

``whatsapp_accounts.market`` says which country a traveller is served from when the
application knows better than the phone number (a Portuguese traveller on a UK SIM).
Routing prefers it to the phone prefix. A market is a country with telephone numbering
(``phonenumbers``' regions: every ISO 3166 country with people to message);
uninhabited codes (``AQ``, ``BV``) and unassigned ones (``XX``) are refused.
"""

from __future__ import annotations

import uuid
from functools import lru_cache

import phonenumbers
from sqlalchemy.engine import Connection

from tripcast.senders.registry import SenderError


def normalize_market(value: str) -> str:
    """``value`` as an upper-case ISO 3166 alpha-2 code, or ``SenderError`` naming it."""
    market = value.strip().upper()
    if market not in phonenumbers.SUPPORTED_REGIONS:
        raise SenderError(
            f"market {value!r} is not an ISO 3166 alpha-2 country code (PT, US, BR ...)"
        )
    return market


@lru_cache(maxsize=512)
def codes_of_market(market: str) -> frozenset[str]:
    """The codes a sender's ``markets`` may list for ``market``: {"PT", "351"}."""
    calling = phonenumbers.country_code_for_region(market)
    return frozenset(code for code in (market, str(calling) if calling else "") if code)


def set_market(connection: Connection, user_id: uuid.UUID, market: str | None) -> None:
    """Store (or clear, with None) the traveller's market; ``SenderError`` when invalid
    or when the traveller has no WhatsApp account."""
    value = None if market is None else normalize_market(market)
    updated = connection.exec_driver_sql(
        "UPDATE public.whatsapp_accounts SET market = %(market)s, updated_at = now() "
        "WHERE user_id = %(user)s RETURNING id",
        {"market": value, "user": user_id},
    ).first()
    if updated is None:
        raise SenderError(f"no WhatsApp account for user {user_id}")
