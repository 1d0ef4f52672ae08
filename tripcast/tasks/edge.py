"""Tasks of the seed's edge functions, re-cut as flows."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import select

from tripcast.models.accounts import WhatsAppAccount
from tripcast.models.engine import get_engine, typed_rows
from tripcast.models.messages import OutboundMessageCreate
from tripcast.outbox import write_outbound
from tripcast.tasks.decorator import database_task

MESSAGE_STATE = """
SELECT status, external_id, failed_reason FROM public.whatsapp_messages WHERE id = %(id)s
"""


@database_task("find-opted-in-account")
def find_opted_in_account(user_id: uuid.UUID) -> dict[str, Any] | None:
    statement = select(WhatsAppAccount).where(
        WhatsAppAccount.user_id == user_id, WhatsAppAccount.opt_in_status == "opted_in"
    )
    with get_engine().connect() as connection:
        found = typed_rows(connection, statement)
    return found[0].model_dump(include={"id", "phone_number"}) if found else None


@database_task("queue-text-message")
def queue_text_message(
    *, user_id: uuid.UUID, account_id: uuid.UUID, trip_id: uuid.UUID | None, content: str
) -> uuid.UUID:
    message = OutboundMessageCreate(
        user_id=user_id,
        whatsapp_account_id=account_id,
        trip_id=trip_id,
        message_type="text",
        content=content,
        meta={"source": "send-whatsapp-message"},
    )
    with get_engine().begin() as connection:
        message_id = write_outbound(connection, message)
    return message_id


# How long the flow waits for a running follower to send its message; the follower
# takes about a second, so the wait only runs out when the message was deferred.
HANDOFF_SECONDS = 10.0


@database_task("hand-to-follower")
def hand_to_follower(message_id: uuid.UUID) -> dict[str, Any] | None:
    """The message's state once a running follower sent it; None when no follower is
    listening (the flow dispatches itself) or the message is still pending."""
    from tripcast.dispatch.handoff import follower_listening, wait_until_settled

    engine = get_engine()
    if not follower_listening(engine):
        return None
    return wait_until_settled(engine, message_id, timeout=HANDOFF_SECONDS)


@database_task("read-message-state")
def read_message_state(message_id: uuid.UUID) -> dict[str, Any]:
    with get_engine().connect() as connection:
        row = connection.exec_driver_sql(MESSAGE_STATE, {"id": message_id}).mappings().one()
    return dict(row)
