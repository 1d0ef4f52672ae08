"""Which failed messages a rerun may send again, and why not: the reference in Python.

The rerun decides set-based in SQL (``tripcast.reruns.sql``); this module states what
that SQL computes, on top of ``tripcast.rules``, and the tests check both agree.

In order, the first reason that applies wins:

1. ``verification_code``: authentication messages are never re-sent. Their code has
   expired (ten minutes) and is blanked out of the row; the traveller asks for a new one.
1b. ``expired``: the message expired unsent (``failed_reason`` starts ``expired``, or its
   ``expires_at`` has passed), skipped unless ``include_expired`` (with a new expiry).
2. Permanent failures, skipped unless ``include_permanent``: Meta codes that no retry can
   fix for this recipient (``permanent:131026`` undeliverable, ``permanent:131050`` user
   stopped marketing messages, ``permanent:131021`` recipient is the sender);
   ``cancelled_by_consent`` (rows dispatch
   or a STOP cancelled: ``failed_reason`` starts ``cancelled:``); ``outcome_unknown``
   (in-doubt sends dispatch gave up on: they may have been delivered, so re-sending
   risks a duplicate).
3. Consent as of now, always: ``account_not_verified``, ``opted_out``, ``not_opted_in``
   (``rules.consent.account_skip_reason``).
4. Preferences as of now, always, for rows whose ``metadata.category`` is a known
   category: ``category_disabled:<category>`` / ``marketing_not_allowed``
   (``rules.categories.gate``).
5. ``metadata_not_an_object``: a row whose metadata is JSON but not an object cannot
   record its rerun history, so it is left for an operator to look at.

Quiet hours never exclude: a re-queued message of a traveller inside their quiet hours
now is due when the window ends (outcome ``deferred``), as the sweep defers its jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from tripcast.rules.categories import CATEGORIES, gate
from tripcast.rules.consent import account_skip_reason

VERIFICATION_CODE = "verification_code"
CANCELLED_BY_CONSENT = "cancelled_by_consent"
OUTCOME_UNKNOWN = "outcome_unknown"
NOT_AN_OBJECT = "metadata_not_an_object"
CHANGED_CONCURRENTLY = "changed_concurrently"

PERMANENT_ERROR_CODES: Mapping[int, str] = MappingProxyType(
    {
        131026: "message undeliverable",
        131050: "user stopped marketing messages",
        131021: "recipient is the sender",
        # 133010 is not here: it means our business number is not registered, which
        # stops dispatch (tripcast.whatsapp.api_errors.NotRegisteredError) and is fixed by
        # registering it, after which its failed messages may well be re-run.
    }
)
# failed_reason prefixes written by dispatch (tripcast/dispatch/message_plan.py and store.py).
CANCELLED_PREFIX = "cancelled:"
OUTCOME_UNKNOWN_PREFIX = "outcome unknown"
EXPIRED = "expired"
EXPIRED_PREFIX = "expired"


def permanent_reason(error_code: int | None, failed_reason: str | None) -> str | None:
    """Why a failure is permanent (so skipped without ``include_permanent``), or None."""
    if error_code in PERMANENT_ERROR_CODES:
        return f"permanent:{error_code}"
    reason = failed_reason or ""
    if reason.startswith(CANCELLED_PREFIX):
        return CANCELLED_BY_CONSENT
    if reason.startswith(OUTCOME_UNKNOWN_PREFIX):
        return OUTCOME_UNKNOWN
    return None


def exclusion_reason(
    message: Mapping[str, Any],
    account: Mapping[str, Any] | None,
    preferences: Mapping[str, Any] | None,
    *,
    include_permanent: bool,
    include_expired: bool = False,
    now: datetime | None = None,
) -> str | None:
    """Why ``message`` (a failed outbound row) is not re-queued now, or None to re-queue."""
    raw = message.get("metadata")
    metadata = raw if isinstance(raw, Mapping) else {}
    category = metadata.get("category")
    if category == "authentication":
        return VERIFICATION_CODE
    if not include_expired and has_expired(message, now=now):
        return EXPIRED
    if not include_permanent:
        permanent = permanent_reason(message.get("error_code"), message.get("failed_reason"))
        if permanent is not None:
            return permanent
    skip = account_skip_reason(account)
    if skip is not None:
        return skip
    if category in CATEGORIES:
        blocked = gate(preferences, category)
        if blocked is not None:
            return blocked
    if raw is not None and not isinstance(raw, Mapping):
        return NOT_AN_OBJECT
    return None


def has_expired(message: Mapping[str, Any], *, now: datetime | None) -> bool:
    if (message.get("failed_reason") or "").startswith(EXPIRED_PREFIX):
        return True
    expires_at = message.get("expires_at")
    return expires_at is not None and now is not None and expires_at <= now


def failure_label(error_code: int | None) -> str:
    """How a re-queued row's failure is counted in the report."""
    return "no error code" if error_code is None else f"error {error_code}"
