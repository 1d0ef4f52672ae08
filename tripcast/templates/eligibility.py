"""Whether a template message may go, decided from the catalog alone: pure functions.

The rule, in order (``judge``):

1. An empty catalog (never synced) knows nothing: the message goes as before.
2. The entry is the message's own language; failing that, an approved translation in
   the same base language (``en`` for ``en_US``, ``pt_BR`` for ``pt_PT``), then one in
   the catalog's default language (``TRIPCAST_DEFAULT_TEMPLATE_LANGUAGE``). A fallback
   changes the language code sent; nothing else. No entry at all: failed.
3. A ``MARKETING`` template needs the traveller's marketing consent (cancelled otherwise),
   whatever category the row itself claims: Meta bills and judges it as marketing.
4. ``APPROVED`` goes, ``PAUSED`` waits, anything else (``DISABLED``, ``REJECTED``,
   ``PENDING``, ``DELETED``...) fails with a reason naming the template.
5. The header and body parameter counts must match the catalog's placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tripcast.whatsapp.messages import TemplateMessage

APPROVED = "APPROVED"
PAUSED = "PAUSED"
MARKETING = "MARKETING"
CANCELLED_MARKETING = "cancelled: marketing not allowed"
# Named ({{first_name}}) and positional ({{1}}) parameters alike.
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_MEDIA_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT", "LOCATION"})


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    language: str
    status: str
    category: str | None = None
    components: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class Verdict:
    action: Literal["send", "wait", "fail", "cancel"]
    reason: str | None = None
    language: str | None = None  # the language to send, when it differs from the message's


def label(name: str, language: str) -> str:
    return f'template "{name}" ({language})'


def base_language(code: str) -> str:
    return code.replace("-", "_").split("_", 1)[0].lower()


def choose_entry(
    entries: Sequence[CatalogEntry], language: str, *, default_language: str | None = None
) -> CatalogEntry | None:
    """The catalog entry a message in ``language`` uses (see the module's rule 2)."""
    wanted = language.replace("-", "_")
    for entry in entries:
        if entry.language.replace("-", "_") == wanted:
            return entry
    approved = sorted(
        (e for e in entries if e.status == APPROVED), key=lambda entry: entry.language
    )
    for entry in approved:
        if base_language(entry.language) == base_language(language):
            return entry
    for entry in approved:
        if default_language is not None and entry.language == default_language:
            return entry
    return None


def expected_parameters(components: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Parameters each of header and body takes: its distinct placeholders, or one for a
    media header."""
    counts: dict[str, int] = {}
    for component in components:
        kind = str(component.get("type", "")).lower()
        if kind not in ("header", "body"):
            continue
        if kind == "header" and str(component.get("format", "TEXT")).upper() in _MEDIA_FORMATS:
            counts[kind] = 1
            continue
        text = component.get("text")
        found = _PLACEHOLDER.findall(text) if isinstance(text, str) else []
        counts[kind] = len(dict.fromkeys(found))
    return counts


def given_parameters(template: TemplateMessage) -> dict[str, int]:
    counts = {"header": 0, "body": 0}
    for component in template.components:
        if component.type in counts:
            counts[component.type] += len(component.parameters)
    return counts


def parameter_problem(template: TemplateMessage, entry: CatalogEntry) -> str | None:
    """Why the message's parameters do not fit the template, or None. A catalog entry
    without components (learned from a webhook only) cannot be checked."""
    if not entry.components:
        return None
    expected = expected_parameters(entry.components)
    given = given_parameters(template)
    for kind in ("header", "body"):
        if expected.get(kind, 0) != given[kind]:
            return (
                f"{label(entry.name, entry.language)} takes {expected.get(kind, 0)} {kind} "
                f"parameters, the message has {given[kind]}"
            )
    return None


def judge(
    template: TemplateMessage,
    entries: Sequence[CatalogEntry],
    *,
    catalog_empty: bool,
    marketing_allowed: bool,
    default_language: str | None = None,
) -> Verdict:
    """May this template message go now (``entries``: the catalog's rows of its name)?"""
    if catalog_empty:
        return Verdict("send")
    language = template.language.code
    entry = choose_entry(entries, language, default_language=default_language)
    if entry is None:
        where = "in the template catalog" if not entries else f"in {language} or a fallback"
        return Verdict("fail", f"{label(template.name, language)} is not {where}")
    if entry.category == MARKETING and not marketing_allowed:
        return Verdict("cancel", CANCELLED_MARKETING)
    if entry.status == PAUSED:
        return Verdict("wait", f"{label(entry.name, entry.language)} is PAUSED")
    if entry.status != APPROVED:
        return Verdict("fail", f"{label(entry.name, entry.language)} is {entry.status}")
    problem = parameter_problem(template, entry)
    if problem is not None:
        return Verdict("fail", problem)
    switched = entry.language if entry.language != language else None
    return Verdict("send", language=switched)
