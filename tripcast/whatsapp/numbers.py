"""``GET /{version}/{phone_number_id}``: what Meta says about one business number.

The typed façade over the phone number node, in the request layer's style
(``tripcast.whatsapp.reader``): its quality rating (GREEN / YELLOW / RED, ``NA`` or
``UNKNOWN`` before Meta has rated it), its throughput level (``throughput.level``:
``STANDARD`` is 80 messages/s, ``HIGH`` up to 1,000) and the business portfolio's
messaging limit. Meta deprecated ``messaging_limit_tier`` for
``whatsapp_business_manager_messaging_limit``; both are asked for and the newer one
wins. The limit comes as a tier name (``TIER_2K``) or as a number of users (``2000``);
either is read as the tier name tripcast stores.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from tripcast.whatsapp.client import DEFAULT_API_VERSION, DEFAULT_BASE_URL
from tripcast.whatsapp.reader import GraphReader, parse_body
from tripcast.whatsapp.transport import TransportChoice

FIELDS = (
    "id,display_phone_number,verified_name,quality_rating,throughput,"
    "messaging_limit_tier,whatsapp_business_manager_messaging_limit"
)
RATINGS = ("GREEN", "YELLOW", "RED")
TIER_BY_SIZE = {
    "50": "TIER_50",
    "250": "TIER_250",
    "1000": "TIER_1K",
    "2000": "TIER_2K",
    "10000": "TIER_10K",
    "100000": "TIER_100K",
    "UNLIMITED": "TIER_UNLIMITED",
}


def tier_name(value: Any) -> str | None:
    """``TIER_2K`` from ``"TIER_2K"``, ``2000``, ``"2,000"`` or ``"UNLIMITED"``; None when
    it is none of them."""
    text = str(value or "").strip().upper().replace(",", "")
    if text.startswith("TIER_"):
        return text
    return TIER_BY_SIZE.get(text)


class Throughput(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    level: str | None = None


class PhoneNumberInfo(BaseModel):
    """The fields of the phone number node tripcast reads."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    display_phone_number: str | None = None
    verified_name: str | None = None
    quality_rating: str | None = None
    throughput: Throughput | None = None
    messaging_limit_tier: str | int | None = None
    whatsapp_business_manager_messaging_limit: str | int | None = None

    @property
    def rating(self) -> str:
        """GREEN, YELLOW, RED, or UNKNOWN (Meta's ``NA``, or nothing)."""
        rating = str(self.quality_rating or "").upper()
        return rating if rating in RATINGS else "UNKNOWN"

    @property
    def tier(self) -> str | None:
        return tier_name(self.whatsapp_business_manager_messaging_limit) or tier_name(
            self.messaging_limit_tier
        )

    @property
    def throughput_level(self) -> str | None:
        level = self.throughput.level if self.throughput else None
        return level.upper() if level else None


class PhoneNumbersClient(GraphReader):
    """Reads business phone numbers; an async context manager."""

    def __init__(
        self,
        *,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        transport: TransportChoice = None,
    ) -> None:
        super().__init__(access_token=access_token, timeout=timeout, transport=transport)
        self.base = f"{base_url.rstrip('/')}/{api_version}"

    def __repr__(self) -> str:
        return f"PhoneNumbersClient(base={self.base!r})"  # never the token

    async def read(self, phone_number_id: str) -> PhoneNumberInfo:
        """The number's rating, throughput and tier; raises the ``WhatsAppError`` family
        of Meta's refusal (an unknown id is Meta's 100)."""
        if not phone_number_id.isdigit():
            raise ValueError("a phone number id is Meta's numeric id, digits only")
        response = await self._get(f"{self.base}/{phone_number_id}", params={"fields": FIELDS})
        return parse_body(PhoneNumberInfo, response, what="a phone number")
