"""Business-scoped user IDs and usernames as the fake hands them out.

Every traveller has a BSUID: two letters for the country of their number, a period, then
digits derived from the number (so a send to the BSUID can be resolved without any
state). A share of travellers (``username_share``, drawn from the number so it is stable)
and the numbers listed in ``username_numbers`` have adopted a username: Meta leaves their
phone number out of inbound messages and out of statuses of sends made to their BSUID.
"""

from __future__ import annotations

import hashlib

import phonenumbers

from tripcast.whatsapp.fake.config import FakeCloudApiConfig
from tripcast.whatsapp.phone import is_bsuid

_FACTOR = 7919  # a prime: the digits are the number times it, so they decode exactly


def bsuid_for(wa_id: str) -> str:
    """The fake's BSUID for the traveller with this number (E.164 digits)."""
    try:
        number = phonenumbers.parse("+" + wa_id)
        region = phonenumbers.region_code_for_number(number) or "ZZ"
    except phonenumbers.NumberParseException:
        region = "ZZ"
    return f"{region}.{int(wa_id) * _FACTOR}"


def wa_id_for(bsuid: str) -> str | None:
    """The number behind one of the fake's BSUIDs, or None when it is not one of them."""
    if not is_bsuid(bsuid):
        return None
    digits = bsuid.rsplit(".", 1)[-1]
    if not digits.isdigit() or int(digits) % _FACTOR:
        return None
    return str(int(digits) // _FACTOR)


def hides_number(config: FakeCloudApiConfig, wa_id: str) -> bool:
    """Whether this traveller has a username, so Meta withholds their number."""
    if wa_id in config.username_numbers:
        return True
    if config.username_share <= 0:
        return False
    draw = int.from_bytes(hashlib.sha256(wa_id.encode()).digest()[:4], "big") / 2**32
    return draw < config.username_share


def username_for(wa_id: str) -> str:
    return f"traveller.{wa_id[-4:]}"


def user_preferences_value(
    config: FakeCloudApiConfig, wa_id: str, *, value: str, timestamp: int
) -> dict[str, object]:
    """A ``user_preferences`` webhook value as Meta's reference shows it: a traveller
    stopped (``stop``) or resumed (``resume``) marketing messages inside WhatsApp."""
    who, contact = inbound_identity(config, wa_id, "Traveller")
    item: dict[str, object] = {
        **({"wa_id": who["from"]} if "from" in who else {}),
        "user_id": who["from_user_id"],
        "detail": f"User requested to {value} marketing messages",
        "category": "marketing_messages",
        "value": value,
        "timestamp": timestamp,
    }
    metadata = {
        "display_phone_number": config.display_phone_number,
        "phone_number_id": config.phone_number_id,
    }
    return {
        "messaging_product": "whatsapp",
        "metadata": metadata,
        "contacts": [contact],
        "user_preferences": [item],
    }


def inbound_identity(
    config: FakeCloudApiConfig, wa_id: str, name: str
) -> tuple[dict[str, str], dict[str, object]]:
    """The sender fields of an inbound message and its ``contacts[]`` entry."""
    bsuid = bsuid_for(wa_id)
    profile: dict[str, str] = {"name": name}
    if hides_number(config, wa_id):
        profile["username"] = username_for(wa_id)
        return {"from_user_id": bsuid}, {"profile": profile, "user_id": bsuid}
    return {"from": wa_id, "from_user_id": bsuid}, {
        "profile": profile,
        "wa_id": wa_id,
        "user_id": bsuid,
    }
