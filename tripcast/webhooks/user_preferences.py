"""Meta's ``user_preferences`` webhook: a traveller stopped or resumed marketing messages
inside WhatsApp.

Each ``value.user_preferences[]`` item (``wa_id`` and, since BSUIDs, ``user_id``;
``detail``; ``category: marketing_messages``; ``value: stop | resume``; ``timestamp``) sets
the traveller's ``notification_preferences.marketing`` (false on stop, true on resume)
and is recorded as a consent event with source ``user_preferences`` (intent stop /
start, outcome opted_out / opted_in / unchanged / stale, previous and new status
``marketing_on`` / ``marketing_off``). A re-delivered item is applied once; one older
than the account's latest marketing signal is ``stale`` and changes nothing. Items of
another category or value are left as Meta sent them; items naming no account of ours
are counted as unmatched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from tripcast.webhooks import sql

log = logging.getLogger(__name__)

FIELD = "user_preferences"
INTENTS = {"stop": "stop", "resume": "start"}


@dataclass(frozen=True)
class MarketingSignal:
    wa_id: str | None
    bsuid: str | None
    value: str  # stop | resume
    detail: str
    at: datetime

    @property
    def key(self) -> str:
        """One consent event per signal, however often Meta delivers it."""
        who = self.wa_id or self.bsuid
        return f"{FIELD}:{who}:{int(self.at.timestamp())}:{self.value}"


@dataclass
class MarketingOutcome:
    stopped: int = 0
    resumed: int = 0
    unchanged: int = 0
    stale: int = 0
    unmatched: int = 0


def marketing_signals(payloads: Iterable[Mapping[str, Any]]) -> list[MarketingSignal]:
    """The marketing stop / resume items of stored deliveries, in order."""
    found: list[MarketingSignal] = []
    for payload in payloads:
        for entry in _list(payload.get("entry")):
            for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
                if isinstance(change, dict) and change.get("field") == FIELD:
                    value = change.get("value")
                    items = value.get(FIELD) if isinstance(value, dict) else None
                    found += [s for s in map(_signal, _list(items)) if s is not None]
    return found


def apply_marketing_signals(
    connection: Connection, signals: Iterable[MarketingSignal]
) -> MarketingOutcome:
    """Apply each signal in order, in the caller's transaction."""
    outcome = MarketingOutcome()
    for signal in signals:
        _apply_one(connection, signal, outcome)
    return outcome


def _apply_one(connection: Connection, signal: MarketingSignal, outcome: MarketingOutcome) -> None:
    if connection.exec_driver_sql(sql.MARKETING_SEEN, {"key": signal.key}).first() is not None:
        return
    row = connection.exec_driver_sql(
        sql.MARKETING_ACCOUNT, {"wa_id": signal.wa_id, "bsuid": signal.bsuid}
    )
    found = row.first()
    if found is None:
        outcome.unmatched += 1
        log.info("user_preferences %s for no known account", signal.value)
        return
    account_id, user_id, marketing, last_at = found
    wanted = signal.value == "resume"
    stale = last_at is not None and (
        signal.at < last_at.replace(microsecond=0) or (wanted and signal.at <= last_at)
    )
    previous = "marketing_on" if marketing else "marketing_off"
    if stale:
        result, new = "stale", previous
    elif bool(marketing) == wanted:
        result, new = "unchanged", previous
    else:
        result, new = (
            ("opted_in" if wanted else "opted_out"),
            "marketing_" + ("on" if wanted else "off"),
        )
        connection.exec_driver_sql(sql.SET_MARKETING, {"user_id": user_id, "on": wanted})
    connection.exec_driver_sql(
        sql.RECORD_MARKETING,
        {
            "user_id": user_id,
            "account_id": account_id,
            "intent": INTENTS[signal.value],
            "outcome": result,
            "keyword": signal.detail,
            "previous": previous,
            "new": new,
            "key": signal.key,
            "at": signal.at,
        },
    )
    counter = {"opted_out": "stopped", "opted_in": "resumed"}.get(result, result)
    setattr(outcome, counter, getattr(outcome, counter) + 1)


def _signal(item: Any) -> MarketingSignal | None:
    if not isinstance(item, dict) or item.get("category") != "marketing_messages":
        return None
    value, at = item.get("value"), _epoch(item.get("timestamp"))
    wa_id, bsuid = _text(item.get("wa_id")), _text(item.get("user_id"))
    if value not in INTENTS or at is None or not (wa_id or bsuid):
        return None
    detail = _text(item.get("detail")) or f"marketing_messages {value}"
    return MarketingSignal(wa_id, bsuid, value, detail[:200], at)


def _epoch(value: Any) -> datetime | None:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > 11:
        return None
    return datetime.fromtimestamp(int(text), tz=UTC)


def _text(value: Any) -> str | None:
    return value.strip()[:128] if isinstance(value, str) and value.strip() else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
