"""Tables this stage reads but does not own: Supabase's ``auth.users`` and Stage 1's trips,
bookings and expenses.

Against a real Supabase database they already exist and are never touched; in standalone
mode the first migration creates these minimal stand-ins. They are marked ``stand_in`` so
Alembic's autogenerate leaves them out of the comparison.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Numeric
from sqlmodel import Field, SQLModel

from tripcast.models.columns import fk, metadata_col, text_col, timestamptz, uuid_pk

STAND_IN = {"tripcast_stand_in": True}


class AuthUser(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = {"schema": "auth", "info": STAND_IN}

    id: uuid.UUID | None = uuid_pk()
    email: str | None = text_col()
    phone: str | None = text_col()
    created_at: datetime | None = timestamptz(default_now=True)


class Trip(SQLModel, table=True):
    __tablename__ = "trips"
    __table_args__ = {"info": STAND_IN}

    id: uuid.UUID | None = uuid_pk()
    user_id: uuid.UUID = fk("auth.users.id", ondelete="CASCADE", name="trips_user_id_fkey")
    title: str = text_col(nullable=False)
    destination: str | None = text_col()
    start_date: date | None = Field(default=None, sa_type=Date)
    end_date: date | None = Field(default=None, sa_type=Date)
    status: str | None = text_col(default="planning")
    budget_amount: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))
    currency: str | None = text_col(default="EUR")
    notes: str | None = text_col()
    meta: dict[str, Any] | None = metadata_col()
    created_at: datetime | None = timestamptz(default_now=True)
    updated_at: datetime | None = timestamptz(default_now=True)


class Booking(SQLModel, table=True):
    __tablename__ = "bookings"
    __table_args__ = {"info": STAND_IN}

    id: uuid.UUID | None = uuid_pk()
    trip_id: uuid.UUID = fk("trips.id", ondelete="CASCADE", name="bookings_trip_id_fkey")
    user_id: uuid.UUID = fk("auth.users.id", ondelete="CASCADE", name="bookings_user_id_fkey")
    booking_type: str = text_col(nullable=False, default="other")
    status: str = text_col(nullable=False, default="pending")
    reference: str | None = text_col()
    created_at: datetime | None = timestamptz(default_now=True)
    updated_at: datetime | None = timestamptz(default_now=True)


class Expense(SQLModel, table=True):
    __tablename__ = "expenses"
    __table_args__ = {"info": STAND_IN}

    id: uuid.UUID | None = uuid_pk()
    trip_id: uuid.UUID = fk("trips.id", ondelete="CASCADE", name="expenses_trip_id_fkey")
    user_id: uuid.UUID = fk("auth.users.id", ondelete="CASCADE", name="expenses_user_id_fkey")
    amount: Decimal = Field(sa_type=Numeric(12, 2), nullable=False)
    category: str | None = text_col()
    description: str | None = text_col()
    spent_at: datetime | None = timestamptz(default_now=True)
    created_at: datetime | None = timestamptz(default_now=True)
