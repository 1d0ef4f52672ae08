"""What Meta said a message costs: ``whatsapp_message_pricing``, one row per outbound message.

Filled by the webhook ingest from the first status receipt of a message that carries
``pricing`` (set once: duplicate and later receipts never change it). Under Meta's
per-message pricing (PMP, since July 2025) ``type`` says whether the message is charged
(``regular``) or free (``free_customer_service``, ``free_entry_point``); ``billable`` is
kept as Meta sends it and derived from ``type`` when Meta omits it. ``destination_country``
is the ISO 3166 region of the account's phone number when the receipt was applied (``ZZ``
when unknown), the market Meta's rate cards price by.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Uuid
from sqlmodel import Field, SQLModel

from tripcast.models.columns import text_col, timestamptz


class WhatsAppMessagePricing(SQLModel, table=True):
    __tablename__ = "whatsapp_message_pricing"
    __table_args__ = (Index("idx_whatsapp_message_pricing_priced_at", "priced_at"),)

    message_id: uuid.UUID = Field(
        sa_type=Uuid,
        primary_key=True,
        sa_column_args=[
            ForeignKey(
                "whatsapp_messages.id",
                ondelete="CASCADE",
                name="whatsapp_message_pricing_message_id_fkey",
            )
        ],
    )
    wamid: str = text_col(nullable=False)
    billable: bool = Field(sa_type=Boolean, nullable=False)
    pricing_model: str | None = text_col()  # PMP (CBP before July 2025)
    category: str = text_col(nullable=False)  # marketing, utility, authentication, service...
    pricing_type: str | None = text_col()  # regular, free_customer_service, free_entry_point
    conversation_id: str | None = text_col()
    conversation_origin: str | None = text_col()
    conversation_expires_at: datetime | None = timestamptz()
    destination_country: str = text_col(nullable=False)
    priced_at: datetime = timestamptz(nullable=False)  # the receipt's timestamp
    recorded_at: datetime | None = timestamptz(default_now=True)
