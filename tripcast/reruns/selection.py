"""Which failed messages a rerun looks at: the analyst's filters, validated."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tripcast.exceptions import EXIT_CONFIG, TripcastError
from tripcast.reruns.reasons import PERMANENT_ERROR_CODES
from tripcast.rules.categories import CATEGORIES


class InvalidSelection(TripcastError, ValueError):
    """The filters cannot select anything sensible; the message is one line."""

    exit_code = EXIT_CONFIG


def _tuple(values: Iterable[Any] | None) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(values or ()))  # de-duplicated, order kept


@dataclass(frozen=True)
class Selection:
    """Failed outbound messages matching every given filter (a filter left empty is off).

    ``since`` / ``until`` bound when the message failed, half-open ``[since, until)``:
    ``failed_at``, or ``created_at`` for rows failed without one (the seed's own send
    function sets only ``failed_reason``). ``until`` defaults to the rerun's ``now``.
    At least one filter is required, so a bare command never re-sends every failure
    ever recorded.
    """

    since: datetime | None = None
    until: datetime | None = None
    templates: tuple[str, ...] = ()
    error_codes: tuple[int, ...] = ()
    user_ids: tuple[uuid.UUID, ...] = ()
    rule_ids: tuple[uuid.UUID, ...] = ()
    include_permanent: bool = False
    # Expired messages (failed 'expired: ...', or past their expires_at) come back only
    # when asked, each with a new expiry ``expires_in`` from the rerun.
    include_expired: bool = False
    expires_in: timedelta | None = None

    def __post_init__(self) -> None:
        # Lists from a flow's parameters or repeated CLI options become de-duplicated tuples.
        for name in ("templates", "error_codes", "user_ids", "rule_ids"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise InvalidSelection(f"{name} must carry a timezone (e.g. 2026-05-01T09:00Z)")
        if self.include_expired and (self.expires_in is None or self.expires_in <= timedelta()):
            raise InvalidSelection(
                "include expired messages only with a new expiry: --expires-in, e.g. 30m"
            )
        if self.expires_in is not None and not self.include_expired:
            raise InvalidSelection("--expires-in applies to --include-expired only")
        if self.since and self.until and self.since >= self.until:
            raise InvalidSelection("since must be before until")
        if not (self.since or self.templates or self.error_codes or self.user_ids or self.rule_ids):
            raise InvalidSelection(
                "give at least one filter: since, template, error code, user or rule"
            )

    def params(self, *, now: datetime) -> dict[str, Any]:
        """Statement parameters; an empty filter is NULL, which the SQL reads as "any"."""
        return {
            "since": self.since,
            "until": self.until or now,
            "templates": list(self.templates) or None,
            "error_codes": list(self.error_codes) or None,
            "user_ids": list(self.user_ids) or None,
            "rule_ids": list(self.rule_ids) or None,
            "include_permanent": self.include_permanent,
            "as_of": now,
            "new_expires_at": now + self.expires_in
            if self.include_expired and self.expires_in
            else None,
            "permanent_codes": list(PERMANENT_ERROR_CODES),
            "categories": list(CATEGORIES),
        }

    def describe(self) -> str:
        """One line for artifacts and logs (ids shortened)."""
        parts = []
        if self.since or self.until:
            since = self.since.isoformat() if self.since else "…"
            parts.append(f"failed {since} – {self.until.isoformat() if self.until else 'now'}")
        if self.templates:
            parts.append("template " + ", ".join(self.templates))
        if self.error_codes:
            parts.append("error " + ", ".join(map(str, self.error_codes)))
        if self.user_ids:
            parts.append(f"{len(self.user_ids)} user(s)")
        if self.rule_ids:
            parts.append(f"{len(self.rule_ids)} rule(s)")
        if self.include_permanent:
            parts.append("permanent failures included")
        if self.include_expired:
            parts.append(f"expired included, new expiry in {self.expires_in}")
        return "; ".join(parts)
