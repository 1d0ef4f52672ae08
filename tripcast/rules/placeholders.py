"""``{namespace.field}`` placeholders in rule texts and template parameters.

Syntax: ``{trip.title}`` is replaced by ``context["trip"]["title"]``; ``{{`` and ``}}``
stand for literal braces; any other brace is an error. Only the names in
``PLACEHOLDER_FIELDS`` are accepted when a config is parsed, so a typo such as
``{trip.titel}`` is caught when the rule is saved, not when it fires.

Values render as: ``date`` → ``2025-06-01``; ``datetime`` → ISO 8601 to the minute;
``Decimal`` → plain notation keeping its scale (``Decimal("12.50")`` → ``12.50``, never
``1.25E+1``); ``float`` → its shortest plain form (``1234.5``, ``0.00001``);
anything else → ``str(value)``. A placeholder whose value is missing or ``None`` in the
context raises ``InvalidRuleConfig`` (a template must never go out with a blank).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType

from tripcast.rules.config_errors import InvalidRuleConfig

PLACEHOLDER_FIELDS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "trip": frozenset(
            {"id", "title", "destination", "start_date", "end_date", "status", "days_until"}
        ),
        "budget": frozenset({"total", "spent", "remaining", "percent", "threshold", "currency"}),
        "booking": frozenset({"id", "type", "status", "reference", "created_at", "hours_pending"}),
    }
)
KNOWN_PLACEHOLDERS: frozenset[str] = frozenset(
    f"{namespace}.{field}" for namespace, fields in PLACEHOLDER_FIELDS.items() for field in fields
)

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_WHITESPACE = re.compile(r"\s+")
Context = Mapping[str, Mapping[str, object]]


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Split ``text`` into (literal, False) and (placeholder name, True) pieces."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in _TOKEN.finditer(text):
        pieces.append((text[position : match.start()], False))
        token = match.group(0)
        if token in ("{{", "}}"):
            pieces.append((token[0], False))
        elif match.group(1) is not None:
            pieces.append((match.group(1), True))
        else:
            raise ValueError(f"has an unmatched {token!r} (write {token * 2} for a literal brace)")
        position = match.end()
    pieces.append((text[position:], False))
    return [piece for piece in pieces if piece[0] or piece[1]]


def placeholders(text: str) -> list[str]:
    """The placeholder names in ``text``, in order; ``ValueError`` on bad syntax or unknown name."""
    names = [name for name, is_placeholder in _tokens(text) if is_placeholder]
    for name in names:
        if name in KNOWN_PLACEHOLDERS:
            continue
        namespace = name.partition(".")[0]
        if namespace in PLACEHOLDER_FIELDS:
            known = ", ".join(f"{namespace}.{f}" for f in sorted(PLACEHOLDER_FIELDS[namespace]))
        else:
            known = ", ".join(f"{{{ns}.*}}" for ns in PLACEHOLDER_FIELDS)
        raise ValueError(f"uses unknown placeholder {{{name}}} (known: {known})")
    return names


def namespaces(texts: Sequence[str]) -> set[str]:
    """The placeholder namespaces (``trip``, ``budget``...) used across ``texts``."""
    return {name.split(".", 1)[0] for text in texts for name in placeholders(text)}


def format_value(value: object) -> str:
    """How one context value is written into a message."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not isinstance(value, bool):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _lookup(context: Context, name: str) -> object:
    namespace, _, field = name.partition(".")
    section = context.get(namespace)
    value = section.get(field) if isinstance(section, Mapping) else None
    if value is None:
        raise InvalidRuleConfig(
            f"placeholder {{{name}}} has no value for this {namespace or 'message'}"
        )
    return value


def render(text: str, context: Context) -> str:
    """``text`` with every placeholder replaced from ``context``.

    Raises ``InvalidRuleConfig`` for bad syntax or a placeholder the context cannot fill.
    """
    try:
        pieces = _tokens(text)
    except ValueError as exc:
        raise InvalidRuleConfig(f"text {text[:40]!r} {exc}") from None
    return "".join(
        format_value(_lookup(context, piece)) if is_placeholder else piece
        for piece, is_placeholder in pieces
    )


def render_parameters(parameters: Sequence[str], context: Context) -> list[str]:
    """Render template body parameters for the Cloud API.

    Meta rejects parameters with newlines, tabs or more than four consecutive spaces, and
    empty ones: whitespace runs become one space, and an empty result raises
    ``InvalidRuleConfig``.
    """
    rendered = []
    for index, parameter in enumerate(parameters):
        value = _WHITESPACE.sub(" ", render(parameter, context)).strip()
        if not value:
            raise InvalidRuleConfig(f"template parameter {index + 1} ({parameter!r}) renders empty")
        rendered.append(value)
    return rendered


def readable_rendering(template: str, rendered: Sequence[str]) -> str:
    """The human-readable ``content`` of a template message: ``[name] p1 | p2``."""
    return f"[{template}] {' | '.join(rendered)}".rstrip()
