"""The template webhook fields, applied to the catalog.

- ``message_template_status_update``: ``event`` is the new status (APPROVED, PAUSED,
  DISABLED, REJECTED, PENDING_DELETION, ...); REINSTATED means approved again. FLAGGED,
  LOCKED and UNLOCKED leave the status as it is (the template can still be sent).
- ``message_template_quality_update``: ``new_quality_score``.
- ``template_category_update``: ``new_category`` is the category now in force (an
  impending change, announced with ``correct_category``, has not happened yet).

Every value names the template by ``message_template_name`` and
``message_template_language`` (Meta writes ``en-US`` here and ``en_US`` in listings:
normalised to the listing's form). A value without them is skipped, never fatal: the
delivery stays stored as it came.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from tripcast.templates.records import set_category, set_quality, set_status

STATUS = "message_template_status_update"
QUALITY = "message_template_quality_update"
CATEGORY = "template_category_update"
FIELDS = frozenset({STATUS, QUALITY, CATEGORY})
STATUS_BY_EVENT = {"REINSTATED": "APPROVED"}
NO_STATUS_CHANGE = frozenset({"FLAGGED", "LOCKED", "UNLOCKED"})

# A reinstated template's waiting messages leave now rather than at their next re-check.
RELEASE_WAITING = """
UPDATE public.whatsapp_messages
SET next_attempt_at = %(now)s
WHERE status = 'pending' AND direction = 'outbound' AND message_type = 'template'
  AND send_started_at IS NULL AND next_attempt_at > %(now)s
  AND metadata -> 'template' ->> 'name' = %(name)s
"""


@dataclass(frozen=True)
class TemplateEvent:
    field: str
    name: str
    language: str
    value: Mapping[str, Any]
    waba_id: str | None = None

    @property
    def meta_template_id(self) -> str | None:
        found = self.value.get("message_template_id")
        return None if found is None else str(found)


def template_events(payload: Mapping[str, Any]) -> list[TemplateEvent]:
    """The template changes of one stored delivery, in order; others are ignored."""
    found: list[TemplateEvent] = []
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") not in FIELDS or not isinstance(value, dict):
                continue
            name, language = (
                value.get("message_template_name"),
                value.get("message_template_language"),
            )
            if not isinstance(name, str) or not isinstance(language, str) or not name:
                continue
            waba = entry.get("id")
            found.append(
                TemplateEvent(
                    field=str(change["field"]),
                    name=name,
                    language=language.replace("-", "_"),
                    value=value,
                    waba_id=str(waba) if waba is not None else None,
                )
            )
    return found


def _dicts(items: Any) -> Iterable[Mapping[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def apply_template_webhooks(
    connection: Connection, payloads: Iterable[Mapping[str, Any]], *, now: datetime
) -> int:
    """Apply every template change in these deliveries; how many catalog rows changed."""
    changed = 0
    for payload in payloads:
        for event in template_events(payload):
            changed += _apply(connection, event, now=now)
    return changed


def _apply(connection: Connection, event: TemplateEvent, *, now: datetime) -> int:
    key: dict[str, Any] = {"name": event.name, "language": event.language, "now": now}
    value = event.value
    if event.field == QUALITY:
        quality = value.get("new_quality_score")
        return set_quality(connection, **key, quality=str(quality)) if quality else 0
    if event.field == CATEGORY:
        category = value.get("new_category")
        return set_category(connection, **key, category=str(category)) if category else 0
    raw = str(value.get("event") or "").upper()
    if not raw or raw in NO_STATUS_CHANGE:
        return 0
    status = STATUS_BY_EVENT.get(raw, raw)
    reason = value.get("reason")
    changed = set_status(
        connection,
        **key,
        status=status,
        reason=None if reason in (None, "NONE") else str(reason),
        meta_template_id=event.meta_template_id,
        waba_id=event.waba_id,
    )
    if status == "APPROVED":
        connection.exec_driver_sql(RELEASE_WAITING, {"name": event.name, "now": now})
    return changed
