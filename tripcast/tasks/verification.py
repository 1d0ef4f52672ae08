"""Prefect tasks of the verification flows.

A refusal (wrong code, throttled re-send, ...) is the traveller's to fix, not an
incident: the tasks return it as an outcome instead of failing, so the Prefect UI's
failed runs stay the ones an operator must look at.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tripcast.models.engine import get_engine
from tripcast.tasks.decorator import database_task
from tripcast.verification.refusals import VerificationError
from tripcast.verification.service import confirm_verification, start_verification

TAGS = ["tripcast", "verification"]


@database_task("send-verification-code", tags=TAGS)
def send_code_task(
    *, user_id: uuid.UUID, phone: str, now: datetime, default_region: str | None = None
) -> dict[str, Any]:
    try:
        sent = start_verification(
            get_engine(), user_id, phone, now=now, default_region=default_region
        )
    except VerificationError as error:
        return error.as_outcome()
    return sent.as_outcome()


@database_task("check-verification-code", tags=TAGS)
def check_code_task(*, user_id: uuid.UUID, code: str, now: datetime) -> dict[str, Any]:
    try:
        verified = confirm_verification(get_engine(), user_id, code, now=now)
    except VerificationError as error:
        return error.as_outcome()
    return verified.as_outcome()


def summary_rows(step: str, outcome: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One artifact row: what happened, why, and the masked number (never the code)."""
    return [
        {
            "step": step,
            "outcome": outcome["outcome"],
            "reason": outcome.get("error", ""),
            "phone": outcome.get("phone", ""),
            "detail": outcome.get("message", outcome.get("expires_at", "")),
        }
    ]
