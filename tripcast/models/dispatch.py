"""Shared send pacing: how dispatchers on any number of machines keep to one rate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, text
from sqlmodel import Field, SQLModel

from tripcast.models.columns import timestamptz
from tripcast.models.messages import WhatsAppMessage


class SendPacing(SQLModel, table=True):
    """The next free send slot of one WhatsApp phone number id (a GCRA-style schedule)."""

    __tablename__ = "send_pacing"

    phone_number_id: str = Field(primary_key=True, sa_type=Text)
    next_slot_at: datetime = timestamptz(nullable=False)
    updated_at: datetime | None = timestamptz(default_now=True)


# Dispatch's own index on the outbox: the rows a dispatcher holds right now (a batch or
# two per worker). When a worker dies, the status webhook may settle its messages while
# its lease still runs; once the lease expires, the next dispatch run finds them here
# and logs the dead worker's attempt. Declared here, beside the migration that makes it.
DISPATCH_LEASED_INDEX = Index(
    "idx_whatsapp_messages_dispatch_leased",
    WhatsAppMessage.__table__.c.lease_expires_at,  # type: ignore[attr-defined]
    postgresql_where=text("lease_owner IS NOT NULL"),
)
