"""Validated ``action_config`` per ``action_type``.

``parse_action_config(action_type, raw)`` accepts a dict or JSON text and returns one of
the models below, or raises ``InvalidRuleConfig`` with a one-line message. Texts may use
``{namespace.field}`` placeholders (see ``placeholders``); unknown placeholders and
unknown fields are errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from tripcast.rules._parsing import check_type, parse_config, shown
from tripcast.rules.categories import CATEGORIES, Category
from tripcast.rules.placeholders import placeholders, readable_rendering, render_parameters

__all__ = [
    "ACTION_TYPES",
    "TRIP_STATUSES",
    "UPDATABLE_TRIP_FIELDS",
    "ActionConfig",
    "ActionType",
    "RunAiAgentAction",
    "SendEmailAction",
    "SendWhatsAppAction",
    "UpdateTripAction",
    "parse_action_config",
    "readable_rendering",
    "render_parameters",
    "template_message",
]

ActionType = Literal["send_whatsapp", "send_email", "run_ai_agent", "update_trip"]
ACTION_TYPES: tuple[ActionType, ...] = (
    "send_whatsapp",
    "send_email",
    "run_ai_agent",
    "update_trip",
)
UPDATABLE_TRIP_FIELDS: tuple[str, ...] = ("status", "notes", "metadata")
TRIP_STATUSES: tuple[str, ...] = ("planning", "upcoming", "active", "completed", "cancelled")
MAX_TEXT_LENGTH = 4096  # WhatsApp text body limit
MAX_NOTES_LENGTH = 10_000
MAX_AGENT_TIMEOUT_SECONDS = 24 * 3600

_EMAIL = re.compile(r"^[^@\s,;<>()\"']+@[^@\s,;<>()\"']+\.[^@\s,;<>()\"'.]+$")


def _with_placeholders(text: str) -> str:
    placeholders(text)
    return text


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text


def _single_line(text: str) -> str:
    if "\r" in text or "\n" in text:
        raise ValueError("must be a single line (no line breaks)")
    return text


def _is_json(value: object) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, list):
        return all(_is_json(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_json(item) for key, item in value.items())
    return False


def _json_object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    if not _is_json(value):
        raise ValueError("must hold only JSON values (string keys)")
    return value


Text = Annotated[
    str, Field(strict=True), AfterValidator(_not_blank), AfterValidator(_with_placeholders)
]
JsonObject = Annotated[dict[str, Any], BeforeValidator(_json_object)]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SendWhatsAppAction(_Config):
    """Queue a WhatsApp message: template ``template`` (or ``text`` inside the 24 h window)."""

    template: str = Field(
        strict=True,
        pattern=r"^[a-z0-9_]{1,512}$",
        description="a template name of lowercase letters, digits and underscores",
    )
    language: str = Field(
        default="en_US",
        strict=True,
        pattern=r"^[a-z]{2,3}(_[A-Z]{2,4})?$",
        description="a WhatsApp language code such as 'en_US' or 'pt_BR'",
    )
    category: Category | None = Field(default=None, description=f"one of {', '.join(CATEGORIES)}")
    parameters: list[Text] = Field(
        default_factory=list, max_length=100, description="a list of strings"
    )
    text: Text | None = Field(
        default=None,
        max_length=MAX_TEXT_LENGTH,
        description=f"a non-blank string of at most {MAX_TEXT_LENGTH} characters",
    )
    # The business number to send from (a phone number id), overriding routing.
    sender: str | None = Field(
        default=None, strict=True, pattern=r"^[0-9]{1,32}$", description="a phone number id"
    )


class SendEmailAction(_Config):
    """Send an email; ``to`` defaults to the user's own address."""

    subject: Annotated[Text, AfterValidator(_single_line)] = Field(
        max_length=998, description="a non-blank single line of at most 998 characters"
    )
    body: Text = Field(description="a non-blank string")
    to: str | None = Field(
        default=None,
        strict=True,
        max_length=254,
        pattern=_EMAIL.pattern,
        description="one email address such as 'ana@example.com'",
    )


def _trip_fields(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise ValueError(f"must be a non-empty JSON object of {', '.join(UPDATABLE_TRIP_FIELDS)}")
    for key, item in value.items():
        if key not in UPDATABLE_TRIP_FIELDS:
            raise ValueError(
                f"has unknown field {shown(key)} (allowed: {', '.join(UPDATABLE_TRIP_FIELDS)})"
            )
        if key == "status" and item not in TRIP_STATUSES:
            raise ValueError(
                f".status must be one of {', '.join(TRIP_STATUSES)}, got {shown(item)}"
            )
        if (
            key == "notes"
            and item is not None
            and (not isinstance(item, str) or len(item) > MAX_NOTES_LENGTH)
        ):
            raise ValueError(
                f".notes must be a string of at most {MAX_NOTES_LENGTH} characters or null, "
                f"got {shown(item)}"
            )
        if key == "metadata":
            try:
                _json_object(item)
            except ValueError as exc:
                raise ValueError(f".metadata {exc}, got {shown(item)}") from None
    return value


class UpdateTripAction(_Config):
    """Update whitelisted trip columns.

    ``status`` replaces the trip's status, ``notes`` replaces its notes (null clears them),
    ``metadata`` is merged shallowly into the trip's metadata (``metadata || value``).
    """

    fields: Annotated[dict[str, Any], BeforeValidator(_trip_fields)]


def _deployment(value: object) -> str:
    parts = value.split("/") if isinstance(value, str) else []
    if len(parts) != 2 or any(not part or part != part.strip() for part in parts):
        raise ValueError("must be 'flow-name/deployment-name'")
    return str(value)


class RunAiAgentAction(_Config):
    """Start the Prefect deployment ``deployment`` with ``parameters``."""

    deployment: Annotated[str, BeforeValidator(_deployment)]
    parameters: JsonObject = Field(default_factory=dict)
    timeout_seconds: float | None = Field(
        default=None,
        strict=True,
        gt=0,
        le=MAX_AGENT_TIMEOUT_SECONDS,
        allow_inf_nan=False,
        description=f"a number of seconds greater than 0 and at most {MAX_AGENT_TIMEOUT_SECONDS}",
    )


ActionConfig = SendWhatsAppAction | SendEmailAction | UpdateTripAction | RunAiAgentAction

ACTION_MODELS: dict[str, type[ActionConfig]] = {
    "send_whatsapp": SendWhatsAppAction,
    "send_email": SendEmailAction,
    "update_trip": UpdateTripAction,
    "run_ai_agent": RunAiAgentAction,
}


def parse_action_config(action_type: str, raw: object) -> ActionConfig:
    """Validate ``raw`` (dict or JSON text) as the ``action_config`` of ``action_type``.

    Raises ``InvalidRuleConfig`` for an unknown type or any invalid, missing or extra field.
    """
    name = check_type(action_type, ACTION_TYPES, "action_type")
    return parse_config(ACTION_MODELS[name], raw, kind="action_config", type_name=name)


def template_message(action: SendWhatsAppAction, rendered: Sequence[str]) -> Mapping[str, object]:
    """The Cloud API ``template`` object (stored as ``metadata -> 'template'``).

    ``rendered`` comes from ``render_parameters(action.parameters, context)``.
    """
    components: list[dict[str, object]] = []
    if rendered:
        body = [{"type": "text", "text": value} for value in rendered]
        components.append({"type": "body", "parameters": body})
    return {
        "name": action.template,
        "language": {"code": action.language},
        "components": components,
    }
