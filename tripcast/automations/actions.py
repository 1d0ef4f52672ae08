"""The four rule actions. Each returns the ``result`` recorded on the job.

``queue_whatsapp`` and ``update_trip`` only write to the database, inside the same
transaction that completes the job, so they happen exactly once. ``send_email`` and
``start_agent`` reach outside: email is marked as in flight first (a reclaimed job that
finds the mark is failed as "outcome unknown", never re-sent), and the agent run is
created with the job's dedupe key as Prefect's idempotency key by the ``StartDeployment``
the caller passes (``tripcast.deployments.runs``: Prefect stays in the orchestration layer).
"""

from __future__ import annotations

import json
import smtplib
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from tripcast.automations import sql
from tripcast.automations.context import JobContext
from tripcast.exceptions import TripcastError
from tripcast.models.messages import OutboundMessageCreate
from tripcast.outbox import write_outbound
from tripcast.rules.actions import (
    RunAiAgentAction,
    SendEmailAction,
    SendWhatsAppAction,
    UpdateTripAction,
    render_parameters,
    template_message,
)
from tripcast.rules.expiry import reminder_expiry
from tripcast.rules.placeholders import readable_rendering, render

Values = dict[str, dict[str, object]]


class StartDeployment(Protocol):
    """Start a run of a deployment by name; its flow run's id. ``LookupError`` if none."""

    def __call__(self, name: str, *, parameters: dict[str, Any], idempotency_key: str) -> str: ...


class TransientActionError(TripcastError, RuntimeError):
    """The action's service is unreachable for now: retry the job later."""

    transient = True


def message_dedupe_key(job: JobContext) -> str:
    return job.dedupe_key or f"job:{job.job_id}"


def queue_whatsapp(
    connection: Connection,
    job: JobContext,
    action: SendWhatsAppAction,
    *,
    values: Values,
    category: str,
    now: datetime,
) -> dict[str, Any]:
    """Queue the message for dispatch: text inside the 24 h window, else the template."""
    assert job.account is not None  # consent_problem() guarantees an opted-in account
    rendered = render_parameters(action.parameters, values)
    template = template_message(action, rendered)
    message_type: Literal["text", "template"] = "text" if action.text is not None else "template"
    if action.text is not None:
        content = render(action.text, values)
    else:
        content = readable_rendering(action.template, rendered)
    message = OutboundMessageCreate(
        user_id=job.user_id,
        whatsapp_account_id=job.account["id"],
        trip_id=job.trip_id,
        message_type=message_type,
        content=content,
        # The template rides along with a text too: outside the window dispatch sends it.
        template=dict(template),
        category=category,
        sender=action.sender,  # the rule's override of sender routing
        dedupe_key=message_dedupe_key(job),
        scheduled_job_id=job.job_id,
        next_attempt_at=now,
        # A trip reminder is void once the day it announces has begun; None lets the
        # outbox trigger apply the category's default (marketing: 24 h).
        expires_at=reminder_expiry(
            (job.rule or {}).get("trigger_type"),
            job.day,
            timezone=(job.preferences or {}).get("timezone"),
            now=now,
        ),
    )
    message_id = write_outbound(connection, message)
    return {"action": "send_whatsapp", "message_id": str(message_id), "template": action.template}


def update_trip(
    connection: Connection, job: JobContext, action: UpdateTripAction, *, now: datetime
) -> dict[str, Any]:
    fields = action.fields
    metadata = fields.get("metadata")
    updated = connection.exec_driver_sql(
        sql.UPDATE_TRIP,
        {
            "trip_id": job.trip_id,
            "status": fields.get("status"),
            "notes": fields.get("notes"),
            "metadata": json.dumps(metadata) if metadata is not None else None,
            "now": now,
        },
    ).rowcount
    return {"action": "update_trip", "fields": sorted(fields), "trips_updated": updated}


def send_email(
    job: JobContext, action: SendEmailAction, *, values: Values, smtp_url: str, sender: str
) -> dict[str, Any]:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = action.to or job.email or ""
    message["Subject"] = render(action.subject, values)
    message.set_content(render(action.body, values))
    server = urlsplit(smtp_url)
    smtp_class = smtplib.SMTP_SSL if server.scheme == "smtps" else smtplib.SMTP
    try:
        with smtp_class(server.hostname or "localhost", server.port or 25, timeout=30) as smtp:
            if server.username:
                smtp.login(server.username, server.password or "")
            refused = smtp.send_message(message)
    except (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as error:
        raise TransientActionError(f"SMTP server unreachable: {error}") from error
    return {"action": "send_email", "to": message["To"], "refused": sorted(refused)}


def start_agent(
    job: JobContext, action: RunAiAgentAction, *, start_deployment: StartDeployment | None
) -> dict[str, Any]:
    """Start the configured deployment without waiting for it to finish."""
    if start_deployment is None:
        raise LookupError("run_ai_agent needs a Prefect server to start deployments on")
    flow_run_id = start_deployment(
        action.deployment,
        parameters={**action.parameters},
        idempotency_key=message_dedupe_key(job),
    )
    return {
        "action": "run_ai_agent",
        "deployment": action.deployment,
        "flow_run_id": flow_run_id,
    }
