"""Meta's word on a sender, from the ``phone_number_quality_update`` and
``account_update`` webhook fields.

- ``phone_number_quality_update`` names the number by ``display_phone_number``;
  ``event`` FLAGGED means its quality fell to low (RED), UNFLAGGED that it recovered;
  UPGRADE / DOWNGRADE come with the new ``current_limit`` (TIER_250 ... TIER_UNLIMITED),
  also read from ``max_daily_conversations_per_business`` when that is a tier.
- ``account_update`` names the number by ``phone_number`` when it is about one number,
  else it is about every number of the business account (``entry[].id``). A
  non-empty ``restriction_info`` (ACCOUNT_RESTRICTION) restricts the number; an empty
  one lifts it; ``ban_info.waba_ban_state`` DISABLE (or DISABLED_UPDATE) disables it,
  REINSTATE lifts it. An operator's pause is never lifted by Meta's events.

A RED rating or a restriction holds marketing from that number (``routing.hold_reason``)
and is logged as a WARNING alert. A value that names no known number, or says nothing
tripcast keeps (a VERIFIED_ACCOUNT notice), is skipped and counted as unused
(``field:<name>``) in the ingest report; an applied one is not.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Row

log = logging.getLogger(__name__)

QUALITY = "phone_number_quality_update"
ACCOUNT = "account_update"
RATING_BY_EVENT = {"FLAGGED": "RED", "UNFLAGGED": "GREEN"}

UPDATE = """
WITH target AS (
  SELECT phone_number_id,
         CASE WHEN %(status)s::text IS NULL THEN status
              WHEN status = 'paused' THEN status  -- the operator's hold stays
              WHEN %(status)s = 'active' AND status = 'disabled'
                   AND %(lift_ban)s IS NOT TRUE THEN status
              ELSE %(status)s END AS new_status
  FROM public.whatsapp_senders
  WHERE (%(display)s::text IS NOT NULL
         AND regexp_replace(coalesce(display_number, ''), '[^0-9]', '', 'g') = %(display)s)
     OR (%(display)s::text IS NULL AND waba_id = %(waba)s)
)
UPDATE public.whatsapp_senders AS s
SET quality_rating = coalesce(%(rating)s, s.quality_rating),
    messaging_limit_tier = coalesce(%(tier)s, s.messaging_limit_tier),
    paused_reason = CASE WHEN t.new_status = s.status THEN s.paused_reason
                         ELSE %(reason)s END,
    status = t.new_status,
    updated_at = %(now)s
FROM target AS t
WHERE s.phone_number_id = t.phone_number_id
RETURNING s.phone_number_id, s.status, s.quality_rating
"""


def _digits(value: Any) -> str | None:
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return digits or None


def _quality_change(value: Mapping[str, Any]) -> dict[str, Any]:
    event = str(value.get("event") or "").upper()
    tier = value.get("current_limit") or value.get("max_daily_conversations_per_business")
    return {
        "display": _digits(value.get("display_phone_number")),
        "rating": RATING_BY_EVENT.get(event),
        "tier": str(tier) if isinstance(tier, str) and tier.startswith("TIER_") else None,
        "status": None,
        "reason": None,
        "lift_ban": None,
    }


def _account_change(value: Mapping[str, Any]) -> dict[str, Any]:
    event = str(value.get("event") or "").upper()
    restrictions = value.get("restriction_info")
    bans = (value.get("ban_info") or {}).get("waba_ban_state") or []
    bans = [bans] if isinstance(bans, str) else [str(state).upper() for state in bans]
    change: dict[str, Any] = {"status": None, "reason": None, "lift_ban": None}
    if event == "DISABLED_UPDATE" or "DISABLE" in bans:
        change |= {"status": "disabled", "reason": f"disabled by Meta ({event or 'ban'})"}
    elif "REINSTATE" in bans:
        change |= {"status": "active", "lift_ban": True}
    elif isinstance(restrictions, list) and restrictions:
        kinds = ", ".join(
            str(item.get("restriction_type")) for item in restrictions if isinstance(item, dict)
        )
        change |= {"status": "restricted", "reason": f"restricted by Meta: {kinds}"}
    elif event == "ACCOUNT_RESTRICTION" or isinstance(restrictions, list):
        change |= {"status": "active"}  # a restriction lifted (restriction_info empty)
    return change | {"display": _digits(value.get("phone_number")), "rating": None, "tier": None}


def sender_changes(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The sender updates one stored delivery carries, in order."""
    changes: list[dict[str, Any]] = []
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            value, field = change.get("value"), change.get("field")
            if not isinstance(value, dict) or field not in (QUALITY, ACCOUNT):
                continue
            found = _quality_change(value) if field == QUALITY else _account_change(value)
            changes.append(found | {"waba": str(entry.get("id") or ""), "field": field})
    return changes


def _dicts(items: Any) -> Iterable[Mapping[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _says_something(change: Mapping[str, Any]) -> bool:
    return any(change[key] is not None for key in ("rating", "tier", "status"))


def apply_sender_webhooks(
    connection: Connection,
    payloads: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    unused: Counter[str] | None = None,
) -> int:
    """Apply every sender change in these deliveries; how many sender rows changed.
    A change that changed no row is counted in ``unused`` as ``field:<name>``."""
    changed = 0
    for payload in payloads:
        for change in sender_changes(payload):
            rows: Sequence[Row[Any]] = ()
            if _says_something(change):
                rows = connection.exec_driver_sql(UPDATE, change | {"now": now}).all()
            if not rows and unused is not None:
                unused[f"field:{change['field']}"] += 1
            changed += len(rows)
            for number, status, rating in rows:
                if status in ("restricted", "disabled") or rating == "RED":
                    log.warning(
                        "sender %s is %s with quality %s: its marketing messages wait",
                        number,
                        status,
                        rating,
                    )
    return changed
