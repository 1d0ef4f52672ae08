"""What to do with one claimed message, decided without I/O.

Order: may this traveller receive anything (opt-in), may they receive this category
(marketing), then which form the 24-hour window allows and whether the row holds it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from tripcast.rules.window import choose_message_form, window_open
from tripcast.whatsapp.messages import OutboundMessage, TemplateMessage, TextMessage
from tripcast.whatsapp.phone import InvalidPhoneNumber, normalize_phone

# Queryable reasons: a cancellation is a failed row whose reason starts "cancelled:".
CANCELLED_OPTED_OUT = "cancelled: opted out"
CANCELLED_NOT_OPTED_IN = "cancelled: not opted in"
CANCELLED_MARKETING = "cancelled: marketing not allowed"
OUTSIDE_WINDOW = "outside 24h window and no template"


@dataclass(frozen=True)
class Claimed:
    """A claimed message joined with its recipient's account and marketing preference."""

    id: uuid.UUID
    user_id: uuid.UUID
    message_type: str
    content: str
    metadata: Mapping[str, Any]
    retry_count: int
    phone_number: str
    opt_in_status: str
    last_inbound_at: datetime | None
    marketing: bool | None

    @property
    def attempt(self) -> int:
        """The number of the attempt about to be made (1 for the first send)."""
        return self.retry_count + 1


@dataclass(frozen=True)
class Send:
    claimed: Claimed
    message: OutboundMessage
    form: str  # "text" or "template", for the report


@dataclass(frozen=True)
class Refuse:
    """Not sent, now or ever: cancelled (consent) or failed (nothing sendable)."""

    claimed: Claimed
    reason: str

    @property
    def cancelled(self) -> bool:
        return self.reason.startswith("cancelled:")


Plan = Send | Refuse


def consent_problem(claimed: Claimed) -> str | None:
    if claimed.opt_in_status == "opted_out":
        return CANCELLED_OPTED_OUT
    if claimed.opt_in_status != "opted_in":
        return CANCELLED_NOT_OPTED_IN
    # Only marketing is re-checked here: other categories were checked when queued,
    # and a row the application inserted directly carries no category at all.
    if claimed.metadata.get("category") == "marketing" and claimed.marketing is not True:
        return CANCELLED_MARKETING
    return None


def template_of(metadata: Mapping[str, Any]) -> TemplateMessage | str | None:
    """The row's approved template, ``None`` when it has none, or why it is unusable."""
    raw = metadata.get("template")
    if raw is None:
        return None
    try:
        return TemplateMessage.model_validate(raw)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "template"
        return f"invalid metadata.template at {where}: {problem['msg']}"


def plan_message(claimed: Claimed, *, now: datetime) -> Plan:
    """Send it (as text or template, with our message id as callback data) or refuse it."""
    problem = consent_problem(claimed)
    if problem is not None:
        return Refuse(claimed, problem)
    try:
        normalize_phone(claimed.phone_number)
    except InvalidPhoneNumber as error:
        return Refuse(claimed, f"invalid phone number: {error.reason}")
    if claimed.message_type not in ("text", "template"):
        return Refuse(claimed, f"unsupported message type: {claimed.message_type}")
    template = template_of(claimed.metadata)
    if isinstance(template, str):
        return Refuse(claimed, template)
    is_text = claimed.message_type == "text"
    form = choose_message_form(
        has_text=is_text,
        has_template=template is not None,
        window_open=is_text and window_open(claimed.last_inbound_at, now),
    )
    callback = str(claimed.id)
    if form == "template" and template is not None:
        return Send(claimed, template.with_callback_data(callback), "template")
    if form == "text":
        return _text(claimed, callback)
    if form == "outside_24h_window_without_template":
        return Refuse(claimed, OUTSIDE_WINDOW)
    return Refuse(claimed, "template message without metadata.template")


def _text(claimed: Claimed, callback: str) -> Plan:
    try:
        message = TextMessage(body=claimed.content, biz_opaque_callback_data=callback)
    except ValidationError as error:
        return Refuse(claimed, f"invalid text: {error.errors()[0]['msg']}")
    return Send(claimed, message, "text")
