"""Shared send pacing: how dispatchers on any number of machines keep to one rate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from tripcast.models.columns import timestamptz


class SendPacing(SQLModel, table=True):
    """The next free send slot of one WhatsApp phone number id (a GCRA-style schedule)."""

    __tablename__ = "send_pacing"

    phone_number_id: str = Field(primary_key=True, sa_type=Text)
    next_slot_at: datetime = timestamptz(nullable=False)
    updated_at: datetime | None = timestamptz(default_now=True)
