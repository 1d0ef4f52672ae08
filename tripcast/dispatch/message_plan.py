"""What to do with one claimed message, decided without I/O.

Order: may this traveller receive anything (opt-in), may they receive this category
(marketing), then which form the 24-hour window allows and whether the row holds it.

Verification codes are the one exception to "only opted-in accounts receive": a code
exists because the traveller asked for it (``tripcast.verification`` queues it for an
account that is not opted in yet, or was moved to a new number and so is back to
``pending``), and confirming it is what opts them in. A *verification code* is an
outbound message with ``metadata.category = 'authentication'`` and a readable
``metadata.verification.expires_at``; it goes to a ``pending`` or ``opted_in`` account
while the code is alive. An ``opted_out`` account gets it only when the code was queued
after the opt-out: re-verifying after a STOP is the traveller asking again (the
verification flow leaves such an account ``opted_out`` until the code is confirmed),
whereas a code queued before the STOP is cancelled like everything else queued then.
Once ``expires_at`` has passed, the message is cancelled ("cancelled: verification code
expired") instead of delivering a dead code. An authentication message without a
readable expiry gets no exception: it needs an opted-in account like any other.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
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
CANCELLED_CODE_EXPIRED = "cancelled: verification code expired"
AUTHENTICATION = "authentication"
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
    # When the row was queued and when the account last opted out: a verification code
    # queued after the opt-out is the traveller asking again (see the module docstring).
    created_at: datetime | None = None
    opted_out_at: datetime | None = None
    # The dispatch class (0 authentication ... 3 marketing) and the row's own expiry.
    priority: int = 1
    expires_at: datetime | None = None
    bsuid: str | None = None  # WhatsApp's business-scoped user ID, once learned
    # The business number it goes from (tripcast.senders.routing), the one that last
    # talked with the traveller, and the traveller's last inbound per number.
    sender: str | None = None
    last_sender: str | None = None
    inbound_by_sender: Mapping[str, datetime] = field(default_factory=dict)
    market: str | None = None  # the traveller's stored market (ISO 3166 alpha-2)

    @property
    def attempt(self) -> int:
        """The number of the attempt about to be made (1 for the first send)."""
        return self.retry_count + 1


@dataclass(frozen=True)
class Send:
    claimed: Claimed
    message: OutboundMessage
    form: str  # "text" or "template", for the report
    # A verification code's expiry: never sent, nor retried, at or after it.
    expires_at: datetime | None = None
    # The BSUID when the account has no usable phone number; else the phone number.
    recipient: str | None = None

    @property
    def to(self) -> str:
        return self.recipient or self.claimed.phone_number


@dataclass(frozen=True)
class Refuse:
    """Not sent, now or ever: cancelled (consent) or failed (nothing sendable)."""

    claimed: Claimed
    reason: str

    @property
    def cancelled(self) -> bool:
        return self.reason.startswith("cancelled:")


Plan = Send | Refuse


def verification_expiry(metadata: Mapping[str, Any]) -> datetime | None:
    """When the code of a verification code message dies; None for any other message.

    None also when the expiry is missing, unreadable or has no timezone: such a message
    is not treated as a verification code (it gets no consent exception).
    """
    if metadata.get("category") != AUTHENTICATION:
        return None
    verification = metadata.get("verification")
    raw = verification.get("expires_at") if isinstance(verification, Mapping) else None
    if not isinstance(raw, str):
        return None
    try:
        expires_at = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return expires_at if expires_at.tzinfo is not None else None


def code_may_reach(claimed: Claimed) -> bool:
    """Whether a verification code may go to this account (the traveller asked for it)."""
    if claimed.opt_in_status in ("opted_in", "pending"):
        return True
    return (
        claimed.opt_in_status == "opted_out"
        and claimed.created_at is not None
        and claimed.opted_out_at is not None
        and claimed.created_at > claimed.opted_out_at
    )


def consent_problem(claimed: Claimed, *, now: datetime) -> str | None:
    """Why this message may not go to this traveller now (a "cancelled: ..." reason)."""
    expires_at = verification_expiry(claimed.metadata)
    if expires_at is not None:
        if not code_may_reach(claimed):
            return CANCELLED_OPTED_OUT
        if expires_at <= now:
            return CANCELLED_CODE_EXPIRED
        return None
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
    problem = consent_problem(claimed, now=now)
    if problem is not None:
        return Refuse(claimed, problem)
    recipient = recipient_of(claimed)
    if isinstance(recipient, Refuse):
        return recipient
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
    expires_at = verification_expiry(claimed.metadata)
    if form == "template" and template is not None:
        message = template.with_callback_data(callback)
        return Send(claimed, message, "template", expires_at, recipient)
    if form == "text":
        return _text(claimed, callback, expires_at, recipient)
    if form == "outside_24h_window_without_template":
        return Refuse(claimed, OUTSIDE_WINDOW)
    return Refuse(claimed, "template message without metadata.template")


def recipient_of(claimed: Claimed) -> str | Refuse | None:
    """None to send to the phone number; the BSUID when the number is unusable and a
    BSUID is known (Meta prefers phone numbers where there is one); else a refusal."""
    try:
        normalize_phone(claimed.phone_number)
    except InvalidPhoneNumber as error:
        if claimed.bsuid:
            return claimed.bsuid
        return Refuse(claimed, f"invalid phone number: {error.reason}")
    return None


def _text(
    claimed: Claimed, callback: str, expires_at: datetime | None, recipient: str | None
) -> Plan:
    try:
        message = TextMessage(body=claimed.content, biz_opaque_callback_data=callback)
    except ValidationError as error:
        return Refuse(claimed, f"invalid text: {error.errors()[0]['msg']}")
    return Send(claimed, message, "text", expires_at, recipient)
