"""The seed's two edge functions as flows (and deployments an application backend calls
with ``run_deployment``): send-whatsapp-message and trigger-automation."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from prefect import flow
from prefect.states import Failed

from tripcast.dispatch import DispatchStopped
from tripcast.flows.timing import run_name
from tripcast.rules.clock import resolve_now
from tripcast.rules.triggers import TRIGGER_TYPES
from tripcast.tasks.automations import execute_jobs_task, plan_rules_task
from tripcast.tasks.dispatch import dispatch_batch
from tripcast.tasks.edge import (
    find_opted_in_account,
    hand_to_follower,
    queue_text_message,
    read_message_state,
)

MAX_TEXT_LENGTH = 4096  # WhatsApp's limit for a text body


@flow(name="send-whatsapp-message", flow_run_name="send-whatsapp-message to {user_id}")
def send_whatsapp_message(
    user_id: uuid.UUID, message: str, trip_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """Queue ``message`` for the user's opted-in WhatsApp account and send it now.

    No account, or not opted in: the run fails with that reason and nothing is queued.
    """
    if not message.strip() or len(message) > MAX_TEXT_LENGTH:
        return Failed(message=f"message must be 1 to {MAX_TEXT_LENGTH} characters")  # type: ignore[return-value]
    account = find_opted_in_account(user_id)
    if account is None:
        return Failed(message="No WhatsApp account or not opted in")  # type: ignore[return-value]
    message_id = queue_text_message(
        user_id=user_id, account_id=account["id"], trip_id=trip_id, content=message
    )
    # A running follower (`tripcast dispatch --follow`) sends it within about a second;
    # without one, this run dispatches a batch itself.
    state = hand_to_follower(message_id)
    if state is None:
        try:
            dispatch_batch(batch_size=500, max_batches=1)
        except DispatchStopped as stopped:
            return Failed(message=str(stopped))  # type: ignore[return-value]
        state = read_message_state(message_id)
    return {"success": state["status"] != "failed", "message_id": str(message_id), **state}


@flow(name="trigger-automation", flow_run_name=run_name("trigger-automation"))
def trigger_automation(now: datetime | None = None) -> dict[str, Any]:
    """Check every active rule and execute what is due (without dispatching)."""
    moment = resolve_now(now)
    planned = plan_rules_task(
        trigger_types=list(TRIGGER_TYPES),
        now=moment,
        horizon=timedelta(minutes=15),
        max_lateness=timedelta(hours=24),
    )
    executed = execute_jobs_task(now=moment)
    return {"processed": planned.rules, "planned": planned.planned, "jobs": dict(executed.outcomes)}
