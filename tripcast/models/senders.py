"""The business phone numbers tripcast sends from (``whatsapp_senders``).

One row per WhatsApp phone number id: which markets it serves, how fast it may send,
Meta's quality rating and messaging-limit tier for it, and whether it sends at all.
The single-number settings (``TRIPCAST_WHATSAPP_PHONE_NUMBER_ID``) remain the default
sender; ``tripcast.senders`` seeds it here when the table is empty. Row-level security
is enabled with no policy, like the template catalog.

``WhatsAppSenderBase`` holds what an operator or a webhook supplies, ``WhatsAppSender``
is the table, ``WhatsAppSenderCreate`` validates a new sender before it is inserted.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import field_validator
from sqlalchemy import CheckConstraint, Double, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from tripcast.models.columns import text_col, timestamptz

QUALITY_RATINGS = ("GREEN", "YELLOW", "RED", "UNKNOWN")
# active: sends; paused: an operator's hold (everything waits); restricted: Meta
# restricted or flagged the number (marketing waits); disabled: banned (everything waits).
SENDER_STATUSES = ("active", "paused", "restricted", "disabled")
TIERS = ("TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")
_MARKET = re.compile(r"^(?:[A-Z]{2}|\+?[0-9]{1,4})$")


def _listed(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'::text" for value in values)
    return f"{column} = ANY (ARRAY[{listed}])"


class WhatsAppSenderBase(SQLModel):
    phone_number_id: str = Field(primary_key=True, sa_type=Text)
    waba_id: str | None = text_col()
    display_number: str | None = text_col()
    # ISO 3166 country codes ("PT") or calling codes ("351") of the travellers it serves.
    markets: list[str] = Field(
        default_factory=list,
        sa_type=ARRAY(Text),
        sa_column_kwargs={"server_default": text("'{}'::text[]")},
        nullable=False,
    )
    # Messages per second; NULL follows TRIPCAST_SEND_RATE.
    send_rate: float | None = Field(default=None, sa_type=Double, nullable=True)
    messaging_limit_tier: str | None = text_col()
    quality_rating: str = text_col(nullable=False, default="UNKNOWN")
    status: str = text_col(nullable=False, default="active")
    paused_reason: str | None = text_col()


class WhatsAppSender(WhatsAppSenderBase, table=True):
    __tablename__ = "whatsapp_senders"
    __table_args__ = (
        CheckConstraint(
            _listed("quality_rating", QUALITY_RATINGS), name="whatsapp_senders_quality_check"
        ),
        CheckConstraint(_listed("status", SENDER_STATUSES), name="whatsapp_senders_status_check"),
        CheckConstraint(
            "send_rate IS NULL OR send_rate > 0::double precision",
            name="whatsapp_senders_send_rate_check",
        ),
    )

    created_at: datetime | None = timestamptz(default_now=True)
    updated_at: datetime | None = timestamptz(default_now=True)
    # Meta's throughput level (STANDARD / HIGH) and when the number was last read from
    # the Cloud API (``tripcast senders sync``).
    throughput_level: str | None = text_col()
    synced_at: datetime | None = timestamptz()


class WhatsAppSenderCreate(WhatsAppSenderBase):
    """A sender an operator adds: digits for the id, markets upper-cased and checked."""

    @field_validator("phone_number_id")
    @classmethod
    def _digits(cls, value: str) -> str:
        value = value.strip()
        if not value.isdigit():
            raise ValueError("a phone number id is Meta's numeric id, digits only")
        return value

    @field_validator("markets")
    @classmethod
    def _markets(cls, value: list[str]) -> list[str]:
        markets = [item.strip().upper() for item in value if item.strip()]
        for market in markets:
            if not _MARKET.match(market):
                raise ValueError(
                    f"market {market!r} is neither an ISO country code (PT) "
                    "nor a calling code (351)"
                )
        return [market.lstrip("+") for market in markets]

    @field_validator("send_rate")
    @classmethod
    def _rate(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value <= 10_000:
            raise ValueError("send rate must be in (0, 10000] messages per second")
        return value
