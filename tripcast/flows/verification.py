"""Phone verification flows: send a code, confirm it. Deployments run them on demand."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from prefect import flow

from tripcast.flows.timing import run_name
from tripcast.rules.clock import resolve_now
from tripcast.tasks.automations import publish_summary
from tripcast.tasks.verification import check_code_task, send_code_task, summary_rows


@flow(name="start-phone-verification", flow_run_name=run_name("start-phone-verification"))
def start_phone_verification(
    user_id: uuid.UUID,
    phone: str,
    default_region: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Send the traveller a one-time code for ``phone`` through the authentication template.

    Returns ``{"outcome": "code_queued", ...}`` or ``{"outcome": "rejected", "error": ...}``.
    """
    moment = resolve_now(now)
    outcome = send_code_task(
        user_id=user_id, phone=phone, now=moment, default_region=default_region
    )
    publish_summary(
        key="start-phone-verification-summary",
        rows=summary_rows("start", outcome),
        description=f"Phone verification started at {moment:%Y-%m-%d %H:%M:%S} UTC",
    )
    return outcome


@flow(name="confirm-phone-verification", flow_run_name=run_name("confirm-phone-verification"))
def confirm_phone_verification(
    user_id: uuid.UUID, code: str, now: datetime | None = None
) -> dict[str, Any]:
    """Check the code the traveller typed: ``{"outcome": "verified", ...}`` or rejected."""
    moment = resolve_now(now)
    outcome = check_code_task(user_id=user_id, code=code, now=moment)
    publish_summary(
        key="confirm-phone-verification-summary",
        rows=summary_rows("confirm", outcome),
        description=f"Verification code checked at {moment:%Y-%m-%d %H:%M:%S} UTC",
    )
    return outcome
