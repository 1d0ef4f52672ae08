"""Dispatch's template check before any call to Meta, and what Meta's refusals teach.

``screen_templates`` runs once per claimed batch (one catalog read): each template
send is judged by ``rules.judge``; a paused template's message goes back to the queue
unsent (``PAUSE_RECHECK`` later, no attempt used), a failing one is refused with a
reason naming the template, a fallback language is swapped in.

``learn_from_refusals`` records Meta's 132015 (paused) and 132016 (disabled) in the
catalog, so the batch after stops asking Meta.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from tripcast.dispatch.message_plan import Plan, Refuse, Send
from tripcast.dispatch.outcomes import AttemptLog, Outcome, deferred
from tripcast.templates.eligibility import CatalogEntry, judge
from tripcast.templates.records import catalog_empty, load_entries, set_status
from tripcast.whatsapp.messages import TemplateLanguage, TemplateMessage

PAUSE_RECHECK = timedelta(minutes=5)
TEMPLATE_PAUSED = "template paused"
# Meta's codes for a template it will not send right now / any more.
STATUS_BY_ERROR = {132015: "PAUSED", 132016: "DISABLED"}


def _default_language() -> str | None:
    from tripcast.settings import ConfigError, get_settings

    try:
        return get_settings().default_template_language
    except ConfigError:
        return None  # start-up already reported it; the check runs without a fallback


def screen_templates(
    connection: Connection,
    plans: Sequence[Plan],
    *,
    now: datetime,
    default_language: str | None = None,
) -> tuple[list[Plan], list[Outcome]]:
    """The plans still to send or refuse, and outcomes for the messages that wait."""
    names = {t.name for p in plans if isinstance(p, Send) and (t := _template(p)) is not None}
    if not names or catalog_empty(connection):
        return list(plans), []
    entries = load_entries(connection, names)
    fallback = default_language or _default_language()
    kept: list[Plan] = []
    waiting: list[Outcome] = []
    for plan in plans:
        screened = _screen(plan, entries, now=now, fallback=fallback)
        if isinstance(screened, Outcome):
            waiting.append(screened)
        else:
            kept.append(screened)
    return kept, waiting


def _screen(
    plan: Plan,
    entries: Mapping[str, Sequence[CatalogEntry]],
    *,
    now: datetime,
    fallback: str | None,
) -> Plan | Outcome:
    template = _template(plan) if isinstance(plan, Send) else None
    if template is None or not isinstance(plan, Send):
        return plan
    verdict = judge(
        template,
        entries.get(template.name, []),
        catalog_empty=False,
        marketing_allowed=plan.claimed.marketing is True,
        default_language=fallback,
    )
    if verdict.action == "wait":
        return deferred(plan, now=now, reason=TEMPLATE_PAUSED, retry_at=now + PAUSE_RECHECK)
    if verdict.action in ("fail", "cancel"):
        return Refuse(plan.claimed, verdict.reason or "template refused")
    if verdict.language is not None:
        language = TemplateLanguage(code=verdict.language)
        return replace(plan, message=template.model_copy(update={"language": language}))
    return plan


def _template(plan: Send) -> TemplateMessage | None:
    return plan.message if isinstance(plan.message, TemplateMessage) else None


def template_refusals(
    sends: Sequence[Send], logs: Sequence[AttemptLog]
) -> list[tuple[str, str, str]]:
    """(name, language, status) for each send Meta refused as paused or disabled."""
    by_id = {send.claimed.id: send for send in sends}
    found: list[tuple[str, str, str]] = []
    for log in logs:
        status = STATUS_BY_ERROR.get(log.error_code or 0)
        send = by_id.get(log.message_id)
        if status is None or send is None or not isinstance(send.message, TemplateMessage):
            continue
        found.append((send.message.name, send.message.language.code, status))
    return found


def learn_from_refusals(
    connection: Connection, *, sends: Sequence[Send], logs: Sequence[AttemptLog], now: datetime
) -> int:
    """Record 132015 / 132016 refusals in the catalog; how many rows changed."""
    changed = 0
    for name, language, status in dict.fromkeys(template_refusals(sends, logs)):
        reason = f"Meta refused a send: error {'132015' if status == 'PAUSED' else '132016'}"
        changed += set_status(
            connection, name=name, language=language, status=status, reason=reason, now=now
        )
    return changed
