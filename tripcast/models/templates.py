"""The WhatsApp template catalog: what Meta says about each approved-or-not template.

``whatsapp_templates`` mirrors ``GET /{waba_id}/message_templates``, one row per
template name and language, and is kept current by the template webhooks and by send
errors 132015 / 132016 (``tripcast.templates``). Dispatch reads it before calling Meta.
Row-level security is enabled without a policy: travellers have no business reading
it; tripcast (the owner) and the service role do.

``WhatsAppTemplateBase`` holds the fields a sync or a webhook supplies,
``WhatsAppTemplate`` is the table, ``WhatsAppTemplateCreate`` validates one listing
entry before it is upserted.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import field_validator
from sqlalchemy import UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from tripcast.models.columns import text_col, timestamptz, uuid_pk

# The statuses dispatch acts on; Meta has more (PENDING, IN_APPEAL, LIMIT_EXCEEDED, ...),
# stored as they come and treated like "not approved".
APPROVED = "APPROVED"
PAUSED = "PAUSED"
DELETED = "DELETED"  # tripcast's mark for a template a sync no longer lists


class WhatsAppTemplateBase(SQLModel):
    name: str = text_col(nullable=False)
    language: str = text_col(nullable=False)
    category: str | None = text_col()  # MARKETING, UTILITY, AUTHENTICATION
    status: str = text_col(nullable=False)
    quality: str | None = text_col()  # GREEN, YELLOW, RED, UNKNOWN
    # Meta's components as listed (HEADER / BODY / FOOTER / BUTTONS with their text).
    components: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_type=JSONB,
        sa_column_kwargs={"server_default": text("'[]'::jsonb")},
        nullable=False,
    )
    waba_id: str | None = text_col()
    meta_template_id: str | None = text_col()
    # Why Meta paused, disabled or rejected it, from the status webhook.
    status_reason: str | None = text_col()


class WhatsAppTemplate(WhatsAppTemplateBase, table=True):
    __tablename__ = "whatsapp_templates"
    __table_args__ = (
        UniqueConstraint("name", "language", name="whatsapp_templates_name_language_key"),
    )

    id: uuid.UUID | None = uuid_pk()
    created_at: datetime | None = timestamptz(default_now=True)
    updated_at: datetime | None = timestamptz(default_now=True)


class WhatsAppTemplateCreate(WhatsAppTemplateBase):
    """One template as a sync or a webhook reports it, normalised for the catalog."""

    @field_validator("status", "category", "quality")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.strip().upper() if isinstance(value, str) and value.strip() else value

    @field_validator("name", "language")
    @classmethod
    def _present(cls, value: str) -> str:
        if not value or not value.strip():
            raise ValueError("must not be empty")
        return value.strip()
