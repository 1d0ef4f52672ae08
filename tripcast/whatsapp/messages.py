"""Request and response bodies of ``POST /{version}/{phone_number_id}/messages``.

The template models mirror the Cloud API's JSON field for field, so the ``template``
object stored in ``whatsapp_messages.metadata`` validates straight into
``TemplateMessage`` and ``to_payload`` gives back exactly what Meta takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tripcast.whatsapp.phone import is_bsuid

CALLBACK_DATA_MAX = 512  # Meta's limit for biz_opaque_callback_data
TEXT_BODY_MAX = 4096

CallbackData = Annotated[str, Field(min_length=1, max_length=CALLBACK_DATA_MAX)]


class _ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextParameter(_ApiModel):
    type: Literal["text"] = "text"
    text: str = Field(min_length=1)
    parameter_name: str | None = None  # named-parameter templates ({{first_name}})


class Currency(_ApiModel):
    fallback_value: str
    code: str = Field(min_length=3, max_length=3)
    amount_1000: int


class CurrencyParameter(_ApiModel):
    type: Literal["currency"] = "currency"
    currency: Currency
    parameter_name: str | None = None


class DateTime(_ApiModel):
    fallback_value: str


class DateTimeParameter(_ApiModel):
    type: Literal["date_time"] = "date_time"
    date_time: DateTime
    parameter_name: str | None = None


class Media(_ApiModel):
    link: str | None = None
    id: str | None = None
    filename: str | None = None


class ImageParameter(_ApiModel):
    type: Literal["image"] = "image"
    image: Media


class DocumentParameter(_ApiModel):
    type: Literal["document"] = "document"
    document: Media


class VideoParameter(_ApiModel):
    type: Literal["video"] = "video"
    video: Media


class PayloadParameter(_ApiModel):
    type: Literal["payload"] = "payload"
    payload: str


class CouponCodeParameter(_ApiModel):
    type: Literal["coupon_code"] = "coupon_code"
    coupon_code: str


Parameter = Annotated[
    TextParameter
    | CurrencyParameter
    | DateTimeParameter
    | ImageParameter
    | DocumentParameter
    | VideoParameter
    | PayloadParameter
    | CouponCodeParameter,
    Field(discriminator="type"),
]


class TemplateComponent(_ApiModel):
    type: Literal["header", "body", "button"]
    sub_type: Literal["quick_reply", "url", "copy_code"] | None = None
    index: str | None = None  # Meta takes the button index as a string ("0")
    parameters: list[Parameter] = Field(default_factory=list)


class TemplateLanguage(_ApiModel):
    code: str = Field(min_length=2)
    policy: Literal["deterministic"] | None = None


class TemplateMessage(_ApiModel):
    """An approved template with its parameters, as the Cloud API's ``template`` object."""

    name: str = Field(min_length=1, max_length=512)
    language: TemplateLanguage
    components: list[TemplateComponent] = Field(default_factory=list)
    # Not part of Meta's template object: sent beside it and echoed in status webhooks.
    biz_opaque_callback_data: CallbackData | None = None

    @classmethod
    def build(
        cls,
        name: str,
        language_code: str,
        *,
        body: Sequence[str] = (),
        header: Sequence[str] = (),
        quick_reply_payloads: Sequence[str] = (),
        callback_data: str | None = None,
    ) -> TemplateMessage:
        """A template with positional text parameters ({{1}}, {{2}}, ...)."""
        components = []
        if header:
            components.append(_text_component("header", header))
        if body:
            components.append(_text_component("body", body))
        for index, payload in enumerate(quick_reply_payloads):
            components.append(
                TemplateComponent(
                    type="button",
                    sub_type="quick_reply",
                    index=str(index),
                    parameters=[PayloadParameter(payload=payload)],
                )
            )
        return cls(
            name=name,
            language=TemplateLanguage(code=language_code),
            components=components,
            biz_opaque_callback_data=callback_data,
        )

    def with_callback_data(self, callback_data: str | None) -> TemplateMessage:
        """A copy carrying ``callback_data`` (validated like the field)."""
        data = self.model_dump(exclude_none=True)
        data["biz_opaque_callback_data"] = callback_data
        return TemplateMessage.model_validate(data)

    def api_object(self) -> dict[str, Any]:
        """The ``template`` object exactly as the Cloud API takes it."""
        data = self.model_dump(mode="json", exclude_none=True, exclude={"biz_opaque_callback_data"})
        if not data["components"]:
            del data["components"]
        return data

    def to_payload(self, to: str) -> dict[str, Any]:
        payload = _envelope(to, "template")
        payload["template"] = self.api_object()
        return _with_callback(payload, self.biz_opaque_callback_data)

    @property
    def body_parameter_count(self) -> int:
        return sum(len(c.parameters) for c in self.components if c.type == "body")


class TextMessage(_ApiModel):
    body: str = Field(min_length=1, max_length=TEXT_BODY_MAX)
    preview_url: bool = False
    biz_opaque_callback_data: CallbackData | None = None

    def to_payload(self, to: str) -> dict[str, Any]:
        payload = _envelope(to, "text")
        payload["text"] = {"preview_url": self.preview_url, "body": self.body}
        return _with_callback(payload, self.biz_opaque_callback_data)


OutboundMessage = TextMessage | TemplateMessage


class SendResult(BaseModel):
    """Meta's answer to an accepted send: 200 means accepted, not delivered."""

    model_config = ConfigDict(frozen=True)

    wa_id: str | None  # absent when the send went to a BSUID
    message_id: str
    input: str
    message_status: str | None = None  # "accepted", or "held_for_quality_assessment"
    user_id: str | None = None  # the BSUID, when the send went to one

    @classmethod
    def from_response(cls, data: Any) -> SendResult:
        """Parse ``{"contacts":[{"input","wa_id"}],"messages":[{"id"}]}``; ValueError if not.

        A send to a BSUID is answered with ``user_id`` instead of ``wa_id``.
        """
        try:
            contact = data["contacts"][0]
            message = data["messages"][0]
            if "wa_id" not in contact and "user_id" not in contact:
                raise KeyError("wa_id")
            return cls(
                wa_id=contact.get("wa_id"),
                user_id=contact.get("user_id"),
                input=contact["input"],
                message_id=message["id"],
                message_status=message.get("message_status"),
            )
        except (KeyError, IndexError, TypeError, AttributeError) as error:
            raise ValueError(f"not a send result ({error!r}): {str(data)[:200]!r}") from None


def _text_component(kind: Literal["header", "body"], texts: Sequence[str]) -> TemplateComponent:
    return TemplateComponent(type=kind, parameters=[TextParameter(text=text) for text in texts])


def _envelope(to: str, message_type: str) -> dict[str, Any]:
    # A business-scoped user ID goes in ``recipient``, a phone number in ``to`` (Meta
    # takes either; when both are given, ``to`` wins, so only one is ever sent).
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        ("recipient" if is_bsuid(to) else "to"): to,
        "type": message_type,
    }


def _with_callback(payload: dict[str, Any], callback_data: str | None) -> dict[str, Any]:
    if callback_data is not None:
        payload["biz_opaque_callback_data"] = callback_data
    return payload
