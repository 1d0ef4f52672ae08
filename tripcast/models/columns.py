"""Column helpers that reproduce the seed's Postgres types and defaults exactly.

SQLModel maps ``str`` to VARCHAR and ``datetime`` to a naive TIMESTAMP; the seed uses
``text``, ``timestamptz``, ``jsonb`` and ``uuid`` with server-side defaults, so every
field spells its column type out through these helpers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, Text, Time, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

NOW = text("now()")
EMPTY_JSONB = text("'{}'::jsonb")


def uuid_pk() -> Any:
    return Field(
        default=None,
        primary_key=True,
        sa_type=Uuid,
        sa_column_kwargs={"server_default": text("gen_random_uuid()")},
    )


def fk(target: str, *, ondelete: str, nullable: bool = False, name: str) -> Any:
    """A uuid foreign key whose constraint name matches what Postgres gives the seed's DDL."""
    from sqlalchemy import ForeignKey

    return Field(
        default=None,
        sa_type=Uuid,
        nullable=nullable,
        sa_column_args=[ForeignKey(target, ondelete=ondelete, name=name)],
    )


def text_col(*, nullable: bool = True, default: str | None = None, **kwargs: Any) -> Any:
    column_kwargs: dict[str, Any] = {}
    if default is not None:
        column_kwargs["server_default"] = text(f"'{default}'::text")
    return Field(
        default=None, sa_type=Text, nullable=nullable, sa_column_kwargs=column_kwargs, **kwargs
    )


def bool_col(*, default: bool) -> Any:
    literal = "true" if default else "false"
    return Field(
        default=None,
        sa_type=Boolean,
        nullable=True,
        sa_column_kwargs={"server_default": text(literal)},
    )


def int_col(*, default: int | None = None, nullable: bool = True) -> Any:
    column_kwargs = {} if default is None else {"server_default": text(str(default))}
    return Field(default=None, sa_type=Integer, nullable=nullable, sa_column_kwargs=column_kwargs)


def timestamptz(*, default_now: bool = False, nullable: bool = True) -> Any:
    column_kwargs = {"server_default": NOW} if default_now else {}
    return Field(
        default=None,
        sa_type=DateTime(timezone=True),
        nullable=nullable,
        sa_column_kwargs=column_kwargs,
    )


def time_col() -> Any:
    return Field(default=None, sa_type=Time(), nullable=True)


def jsonb(*, default_empty: bool = False, nullable: bool = True, name: str | None = None) -> Any:
    column_kwargs: dict[str, Any] = {"server_default": EMPTY_JSONB} if default_empty else {}
    if name is not None:
        column_kwargs["name"] = name
    return Field(default=None, sa_type=JSONB, nullable=nullable, sa_column_kwargs=column_kwargs)


def metadata_col() -> Any:
    """The seed's ``metadata jsonb default '{}'`` column; ``metadata`` is reserved on models."""
    return jsonb(default_empty=True, name="metadata")
