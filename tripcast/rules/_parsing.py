"""Turn raw JSON-ish configs into pydantic models with one-line ``InvalidRuleConfig`` errors."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tripcast.rules.config_errors import InvalidRuleConfig

_MAX_SHOWN = 60
M = TypeVar("M", bound=BaseModel)


def shown(value: object) -> str:
    """A short ``repr`` of an offending input for an error message."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _describe(error: Mapping[str, Any], model: type[BaseModel], what: str) -> str:
    kind, loc = error["type"], error["loc"]
    where = f"{what}{_path(loc)}"
    got = f", got {shown(error.get('input'))}"
    if kind == "missing":
        return f"{where} is required"
    if kind == "extra_forbidden" and len(loc) == 1:
        allowed = ", ".join(model.model_fields)
        return f"{what} has unknown field {loc[0]!r} (allowed: {allowed})"
    if kind in ("value_error", "assertion_error"):
        # Validator messages are either "must ..." (the input is appended) or complete
        # sentences; ".sub must ..." / "[i] must ..." name a part inside the field.
        detail = str(error["ctx"]["error"])
        sep = "" if detail.startswith((".", "[")) else " "
        return f"{where}{sep}{detail}{got if detail.startswith('must') else ''}"
    field = model.model_fields.get(str(loc[0])) if loc else None
    if len(loc) == 1 and field is not None and field.description:
        return f"{where} must be {field.description}{got}"
    return f"{where}: {str(error['msg'])[:1].lower()}{str(error['msg'])[1:]}{got}"


def load_json(raw: object, what: str) -> object:
    """Decode ``raw`` if it is JSON text (bytes or str); other values pass through."""
    if isinstance(raw, bytes | bytearray):
        try:
            raw = raw.decode()
        except UnicodeDecodeError:
            raise InvalidRuleConfig(f"{what} is not UTF-8 JSON") from None
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidRuleConfig(f"{what} is not valid JSON: {exc}") from None
    return raw


def parse_config(model: type[M], raw: object, *, kind: str, type_name: str) -> M:
    """Validate ``raw`` (dict or JSON text) into ``model``; ``kind`` is e.g. ``trigger_config``."""
    what = f"{type_name} {kind}"
    data = load_json(raw, what)
    if not isinstance(data, Mapping):
        raise InvalidRuleConfig(f"{what} must be a JSON object, got {json_kind(data)}")
    bad_keys = [key for key in data if not isinstance(key, str)]
    if bad_keys:
        raise InvalidRuleConfig(f"{what} keys must be strings, got {shown(bad_keys[0])}")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        message = _describe(first, model, what)
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise InvalidRuleConfig(message + (more if len(errors) > 1 else "")) from None


def check_type(type_name: object, known: Sequence[str], what: str) -> str:
    """Return ``type_name`` if it is one of ``known``, else raise ``InvalidRuleConfig``."""
    if not isinstance(type_name, str) or type_name not in known:
        raise InvalidRuleConfig(
            f"unknown {what} {shown(type_name)} (expected one of: {', '.join(known)})"
        )
    return type_name
