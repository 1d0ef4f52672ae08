"""Webhook deliveries from the Cloud API: signature checks and payload models.

The models ignore fields they do not use (Meta adds fields, values and whole webhook
fields without notice: pricing, conversation, ``played``, ``account_update``, ...) and
are strict on the ones they do, so a malformed delivery fails loudly with
``InvalidWebhookPayload`` instead of applying half a status. Strict means: a value that
no genuine delivery can hold and that the database could not store either (a timestamp
past year 9999, an error code beyond a 32-bit integer, an id longer than an index
entry may be) is refused; a value Meta may simply add (a new status name, a new
message type) is accepted and left to the ingest to count as unused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tripcast.exceptions import EXIT_CONFIG, TripcastError

SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIGNATURE_PREFIX = "sha256="

# The statuses the ingest applies; any other name (``played``, ...) is kept and counted.
StatusName = Literal["sent", "delivered", "read", "failed"]
KNOWN_STATUSES: frozenset[str] = frozenset(("sent", "delivered", "read", "failed"))

INT32_MAX = 2**31 - 1  # error codes go to integer columns
MAX_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime holds
_EPOCH = re.compile(r"[0-9]{1,12}")
# Ids, numbers and names end up in btree-indexed text columns, whose entries are capped
# at about 2,700 bytes; genuine ones are far shorter (a wamid is under 100 characters).
ID_MAX = 512
NAME_MAX = 128


class InvalidWebhookPayload(TripcastError, ValueError):
    """A webhook body that is not JSON or not shaped like a Cloud API delivery."""

    exit_code = EXIT_CONFIG


def sign(app_secret: bytes | str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    digest = hmac.new(_key(app_secret), body, hashlib.sha256).hexdigest()
    return _SIGNATURE_PREFIX + digest


def verify_signature(app_secret: bytes | str, raw_body: bytes, header: str | None) -> bool:
    """True when ``header`` is the HMAC-SHA256 of the raw body; constant time.

    Meta sends ``sha256=<lower-case hex>``; the prefix and the hex are accepted in any
    case (and surrounding whitespace is ignored), so only the digest itself decides.
    """
    if not header:
        return False
    given = header.strip().lower()
    if not given.startswith(_SIGNATURE_PREFIX):
        return False
    expected = sign(app_secret, raw_body)
    return hmac.compare_digest(expected.encode(), given.encode())


def answer_verification(params: Mapping[str, str], *, verify_token: str) -> tuple[int, str]:
    """The ``GET`` handshake: ``(200, challenge)`` when the token matches, else 403."""
    token_ok = hmac.compare_digest(
        params.get("hub.verify_token", "").encode(), verify_token.encode()
    )
    if params.get("hub.mode") == "subscribe" and token_ok and "hub.challenge" in params:
        return 200, params["hub.challenge"]
    return 403, "forbidden"


def _key(app_secret: bytes | str) -> bytes:
    return app_secret.encode() if isinstance(app_secret, str) else app_secret


def _epoch_to_utc(value: Any) -> datetime:
    """Meta sends epoch seconds as a string; anything else is a malformed delivery."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not _EPOCH.fullmatch(text) or int(text) > MAX_EPOCH:
        raise ValueError(f"timestamp must be epoch seconds up to year 9999, got {_short(value)}")
    return datetime.fromtimestamp(int(text), tz=UTC)


def _short(value: Any, limit: int = 40) -> str:
    # A reason quotes the value, but never a whole hostile megabyte of it.
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Metadata(_Tolerant):
    display_phone_number: str | None = None
    phone_number_id: str


class ErrorData(_Tolerant):
    details: str | None = None


class DeliveryError(_Tolerant):
    code: int = Field(ge=-INT32_MAX - 1, le=INT32_MAX)
    title: str | None = None
    message: str | None = None
    error_data: ErrorData | None = None

    @property
    def details(self) -> str | None:
        return self.error_data.details if self.error_data else None


def _someone(number: str | None, bsuid: str | None, what: str) -> None:
    # Since Meta's business-scoped user IDs, either may be absent, never both.
    if not number and not bsuid:
        raise ValueError(f"{what} has neither a phone number nor a business-scoped user ID")


class Status(_Tolerant):
    id: str = Field(min_length=1, max_length=ID_MAX)  # the wamid returned by the send
    status: str = Field(min_length=1, max_length=NAME_MAX)  # see KNOWN_STATUSES
    timestamp: datetime
    # The phone number; absent when the send went to a BSUID and Meta withholds it.
    recipient_id: str | None = Field(default=None, max_length=NAME_MAX)
    recipient_user_id: str | None = Field(default=None, max_length=NAME_MAX)  # the BSUID
    errors: list[DeliveryError] = Field(default_factory=list)
    biz_opaque_callback_data: str | None = Field(default=None, max_length=ID_MAX)

    _utc = field_validator("timestamp", mode="before")(_epoch_to_utc)

    @model_validator(mode="after")
    def _has_recipient(self) -> Status:
        _someone(self.recipient_id, self.recipient_user_id, "status")
        return self

    @property
    def recipient(self) -> str:
        """The phone number, or the BSUID when Meta sent no number."""
        return self.recipient_id or self.recipient_user_id or ""


class Text(_Tolerant):
    body: str


class Button(_Tolerant):
    payload: str | None = None
    text: str | None = None


class InboundMessage(_Tolerant):
    # The phone number; absent for a traveller who hides it behind a username.
    sender: str | None = Field(default=None, alias="from", max_length=NAME_MAX)
    sender_user_id: str | None = Field(default=None, alias="from_user_id", max_length=NAME_MAX)
    id: str = Field(min_length=1, max_length=ID_MAX)
    timestamp: datetime
    type: str = Field(min_length=1, max_length=NAME_MAX)
    text: Text | None = None
    button: Button | None = None  # a template's quick-reply button

    _utc = field_validator("timestamp", mode="before")(_epoch_to_utc)

    @model_validator(mode="after")
    def _has_sender(self) -> InboundMessage:
        _someone(self.sender, self.sender_user_id, "message")
        return self

    @property
    def text_body(self) -> str | None:
        """What the traveller wrote or tapped, for keyword handling (STOP, START)."""
        if self.text is not None:
            return self.text.body
        if self.button is not None:
            return self.button.text or self.button.payload
        return None


class Profile(_Tolerant):
    name: str | None = None
    username: str | None = Field(default=None, max_length=NAME_MAX)


class Contact(_Tolerant):
    wa_id: str | None = Field(default=None, max_length=NAME_MAX)
    user_id: str | None = Field(default=None, max_length=NAME_MAX)  # the BSUID
    profile: Profile | None = None

    @property
    def username(self) -> str | None:
        return self.profile.username if self.profile else None


class MessagesValue(_Tolerant):
    messaging_product: Literal["whatsapp"]
    metadata: Metadata
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[InboundMessage] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)
    errors: list[DeliveryError] = Field(default_factory=list)


class Change(_Tolerant):
    field: str
    # Parsed only for the ``messages`` field; other subscriptions (template status,
    # account updates) have other shapes and are kept as they came.
    value: MessagesValue | dict[str, Any]

    @field_validator("value", mode="wrap")
    @classmethod
    def _parse_messages_only(cls, value: Any, handler: Any, info: Any) -> Any:
        if info.data.get("field") == "messages":
            return MessagesValue.model_validate(value)
        if not isinstance(value, dict):
            raise ValueError("value must be an object")
        return value


class Entry(_Tolerant):
    id: str
    changes: list[Change]


class WebhookPayload(_Tolerant):
    object: str
    entry: list[Entry]

    def message_values(self) -> Iterator[MessagesValue]:
        for entry in self.entry:
            for change in entry.changes:
                if isinstance(change.value, MessagesValue):
                    yield change.value


def parse_webhook(raw: bytes) -> WebhookPayload:
    """Parse a delivery's raw body; ``InvalidWebhookPayload`` says what is wrong."""
    if not raw:
        raise InvalidWebhookPayload("webhook body is empty")
    try:
        return WebhookPayload.model_validate_json(raw)
    except ValidationError as error:
        raise InvalidWebhookPayload(_describe(error, raw)) from None


def _describe(error: ValidationError, raw: bytes) -> str:
    first = error.errors()[0]
    if first["type"] == "json_invalid":
        return f"webhook body is not valid JSON (truncated?), {len(raw)} bytes: {first['msg']}"
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"webhook body has the wrong shape at {where}: {first['msg']}"


def iter_statuses(payload: WebhookPayload) -> Iterator[Status]:
    """Every status update in a delivery, across entries and changes, in order."""
    for value in payload.message_values():
        yield from value.statuses


def iter_inbound_messages(payload: WebhookPayload) -> Iterator[InboundMessage]:
    """Every inbound traveller message in a delivery, across entries and changes."""
    for value in payload.message_values():
        yield from value.messages
