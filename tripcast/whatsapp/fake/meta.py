"""Meta's request validation and answer shapes for the fake's messages endpoint."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from tripcast.exceptions import TripcastError
from tripcast.whatsapp.fake.config import FakeCloudApiConfig
from tripcast.whatsapp.fake.identity import wa_id_for

# HTTP status Meta pairs with each code; everything else is 400.
_HTTP_STATUS = {190: 401, 0: 401, 10: 403, 368: 403, 132001: 404, 131000: 500, 131016: 503}

_TEXTS: dict[int, tuple[str, str]] = {
    100: ("(#100) Invalid parameter", "Invalid parameter"),
    190: (
        "Error validating access token: The session is invalid or has expired.",
        "Invalid OAuth access token",
    ),
    130429: ("(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    131056: (
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    ),
    131047: (
        "(#131047) Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
    ),
    131026: ("(#131026) Message undeliverable", "Message undeliverable"),
    131021: (
        "(#131021) Recipient cannot be sender",
        "Sender and recipient phone number is the same.",
    ),
    131051: ("(#131051) Unsupported message type", "Message type is not currently supported."),
    4: ("(#4) Application request limit reached", "Too many API calls from this app."),
    80007: (
        "(#80007) Rate limit issues",
        "The WhatsApp Business Account has reached its rate limit.",
    ),
    131016: ("(#131016) Service unavailable", "A service is temporarily unavailable."),
    131048: (
        "(#131048) Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be "
        "sent from this phone number.",
    ),
    131049: (
        "(#131049) This message was not delivered to maintain healthy ecosystem engagement.",
        "Meta chose not to deliver this message.",
    ),
    131050: (
        "(#131050) Unable to deliver the message. This recipient has chosen to stop "
        "receiving marketing messages on WhatsApp from your business.",
        "The recipient stopped marketing messages.",
    ),
    133010: (
        "(#133010) Phone number Not Registered",
        "The phone number is not registered on the WhatsApp Business Platform.",
    ),
    130472: (
        "(#130472) User's number is part of an experiment",
        "Failed to send message because this user's phone number is part of an experiment",
    ),
    131053: (
        "(#131053) Media upload error",
        "Unable to upload the media used in the message.",
    ),
    131008: ("(#131008) Required parameter is missing", "The parameter to is required."),
    131009: ("(#131009) Parameter value is not valid", "Parameter 'type' is not valid."),
    131037: (
        "(#131037) WhatsApp provided number needs display name approval before message can "
        "be sent.",
        "The display name of the business phone number is not approved.",
    ),
    131042: (
        "(#131042) Business eligibility payment issue",
        "Message failed to send because there were one or more errors related to your "
        "payment method.",
    ),
    131045: (
        "(#131045) Incorrect certificate",
        "Message failed to send due to a phone number registration error.",
    ),
    368: (
        "(#368) Temporarily blocked for policies violations",
        "The WhatsApp Business Account is restricted from messaging for policy violations.",
    ),
    131000: ("(#131000) Something went wrong", "Message failed to send due to an unknown error."),
    132000: (
        "(#132000) Number of parameters does not match the expected number of params",
        "The number of variable parameter values does not match the template.",
    ),
    132001: (
        "(#132001) Template name does not exist in the translation",
        "The template does not exist in this language.",
    ),
    132015: ("(#132015) Template is paused", "Template is paused due to low quality."),
    132016: ("(#132016) Template is disabled", "Template has been paused too many times."),
}


class MetaRefusal(TripcastError):
    """An error answer: Meta's code, optionally more specific details."""

    def __init__(self, code: int, details: str | None = None, *, subcode: int | None = None):
        super().__init__(code, details)
        self.code = code
        self.details = details
        self.subcode = subcode

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS.get(self.code, 400)

    @property
    def title(self) -> str:
        return _TEXTS.get(self.code, (f"(#{self.code}) Error", ""))[0]

    def body(self) -> dict[str, Any]:
        message, default_details = _TEXTS.get(self.code, (f"(#{self.code}) Error", "Error"))
        error: dict[str, Any] = {
            "message": message,
            "type": "OAuthException",
            "code": self.code,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": self.details or default_details,
            },
            "fbtrace_id": "A" + secrets.token_urlsafe(16),
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        return {"error": error}


@dataclass(frozen=True)
class SendRequest:
    to: str  # as the client wrote it (Meta echoes it as contacts[].input)
    wa_id: str
    type: str
    callback_data: str | None
    template_name: str | None = None
    template_language: str | None = None
    body_parameter_count: int = 0
    user_id: str | None = None  # the BSUID when the send went to one (``recipient``)


def parse_send_request(raw: bytes) -> SendRequest:
    """Validate a send like the Cloud API does; raise ``MetaRefusal`` (code 100 mostly)."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise MetaRefusal(100, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise MetaRefusal(100, "The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        raise MetaRefusal(100, "The parameter messaging_product is required.")
    to, wa_id, user_id = _recipient(body)
    callback_data = body.get("biz_opaque_callback_data")
    if callback_data is not None and (
        not isinstance(callback_data, str) or len(callback_data) > 512
    ):
        raise MetaRefusal(100, "Param biz_opaque_callback_data must be a string of at most 512.")
    message_type = body.get("type", "text")
    if message_type == "text":
        _check_text(body.get("text"))
        return SendRequest(to, wa_id, "text", callback_data, user_id=user_id)
    if message_type == "template":
        name, language, count = _check_template(body.get("template"))
        return SendRequest(
            to, wa_id, "template", callback_data, name, language, count, user_id=user_id
        )
    if message_type in _OTHER_META_TYPES:
        raise MetaRefusal(131051, f"The fake models text and template only, not {message_type}.")
    raise MetaRefusal(100, f"Param type must be one of text, template, ...; got {message_type!r}.")


def _recipient(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """``to`` (a phone number) or, without it, ``recipient`` (a BSUID): what the client
    wrote, the traveller's number, and the BSUID when the send went to one."""
    to = body.get("to")
    if to is None and "recipient" in body:
        recipient = body["recipient"]
        wa_id = wa_id_for(recipient) if isinstance(recipient, str) else None
        if wa_id is None:
            raise MetaRefusal(100, "The parameter recipient must be a business-scoped user ID.")
        return recipient, wa_id, recipient
    wa_id = to.removeprefix("+") if isinstance(to, str) else ""
    if not isinstance(to, str) or not wa_id.isdigit() or not 7 <= len(wa_id) <= 15:
        raise MetaRefusal(100, "The parameter to is required and must be a phone number.")
    return to, wa_id, None


_OTHER_META_TYPES = {
    "audio",
    "contacts",
    "document",
    "image",
    "interactive",
    "location",
    "reaction",
    "sticker",
    "video",
}


def _check_text(text: Any) -> None:
    body = text.get("body") if isinstance(text, dict) else None
    if not isinstance(body, str) or not body:
        raise MetaRefusal(100, "The parameter text['body'] is required.")
    if len(body) > 4096:
        raise MetaRefusal(100, "Param text['body'] must be at most 4096 characters long.")


def _check_template(template: Any) -> tuple[str, str, int]:
    if not isinstance(template, dict):
        raise MetaRefusal(100, "The parameter template is required.")
    name = template.get("name")
    language = template.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    if not isinstance(name, str) or not name:
        raise MetaRefusal(100, "The parameter template['name'] is required.")
    if not isinstance(code, str) or not code:
        raise MetaRefusal(100, "The parameter template['language']['code'] is required.")
    components = template.get("components", [])
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise MetaRefusal(100, "Param template['components'] must be a list of objects.")
    count = sum(
        len(component.get("parameters") or [])
        for component in components
        if component.get("type") == "body"
    )
    return name, code, count


def check_template_approved(request: SendRequest, config: FakeCloudApiConfig) -> None:
    """132001 for an unknown template or language, 132000 for a wrong parameter count."""
    if config.templates is None or request.template_name is None:
        return
    template = config.templates.get(request.template_name)
    language = request.template_language
    if template is None or (template.languages is not None and language not in template.languages):
        raise MetaRefusal(
            132001, f"template name ({request.template_name}) does not exist in {language}"
        )
    if template.status != "APPROVED":
        code = {"PAUSED": 132015, "DISABLED": 132016}.get(template.status, 132001)
        raise MetaRefusal(code, f"template ({request.template_name}) is {template.status}")
    expected = template.body_parameters
    if expected is not None and expected != request.body_parameter_count:
        raise MetaRefusal(
            132000,
            f"body: number of localizable_params ({request.body_parameter_count}) does not "
            f"match the expected number of params ({expected})",
        )


def send_response(request: SendRequest, wamid: str) -> dict[str, Any]:
    message: dict[str, Any] = {"id": wamid}
    if request.type == "template":
        message["message_status"] = "accepted"
    contact = {"input": request.to}
    if request.user_id is not None:
        contact["user_id"] = request.user_id  # Meta leaves wa_id out of BSUID sends
    else:
        contact["wa_id"] = request.wa_id
    return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}
