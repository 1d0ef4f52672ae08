"""Where an outbound message is written: one function, one statement, every writer.

Automations, the send-whatsapp-message flow and phone verification queue their messages
through ``write_outbound``; dispatch then sends every pending outbound row, whoever wrote
it (the application may insert rows with only the seed's columns, and those are sent
too). The input is an ``OutboundMessageCreate``, validated when it is built (category,
sender, template shape, aware times), so a row that reaches the table is one dispatch,
routing and the expiry trigger can read.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy.engine import Connection

from tripcast.exceptions import EXIT_CONFIG, TripcastError
from tripcast.models.messages import OutboundMessageBase, OutboundMessageCreate

# The account must be the user's: a message is addressed to an account, and a mismatch
# would send one traveller's message to another's phone. ``expires_at`` left NULL gets
# the category's default from the outbox trigger (migration 0010); ``priority`` is
# generated from the category. A repeated dedupe key writes nothing (the caller then
# reads the first row's id).
WRITE_OUTBOUND = """
INSERT INTO public.whatsapp_messages
  (user_id, whatsapp_account_id, trip_id, direction, message_type, content, metadata,
   dedupe_key, scheduled_job_id, next_attempt_at, expires_at)
SELECT a.user_id, a.id, %(trip_id)s, 'outbound', %(message_type)s, %(content)s,
       %(metadata)s::jsonb, %(dedupe_key)s, %(scheduled_job_id)s, %(next_attempt_at)s,
       %(expires_at)s
FROM public.whatsapp_accounts AS a
WHERE a.id = %(whatsapp_account_id)s AND a.user_id = %(user_id)s
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""

WRITTEN_BEFORE = "SELECT id FROM public.whatsapp_messages WHERE dedupe_key = %(dedupe_key)s"


class UnknownRecipient(TripcastError, LookupError):
    """The message names a WhatsApp account that is not the user's (or none at all)."""

    exit_code = EXIT_CONFIG


def write_outbound(connection: Connection, message: OutboundMessageCreate) -> uuid.UUID:
    """Queue ``message`` as a pending outbound row and return its id.

    Runs in the caller's transaction, so the row commits with whatever else the caller
    writes (a job's completion, a verification code). With a ``dedupe_key`` already
    written, nothing is written and the earlier row's id is returned. Raises
    ``UnknownRecipient`` (nothing written) when the account is not the user's.
    """
    params = message.model_dump(include=set(OutboundMessageBase.model_fields))
    params["metadata"] = json.dumps(message.row_metadata())
    written: uuid.UUID | None = connection.exec_driver_sql(WRITE_OUTBOUND, params).scalar()
    if written is None and message.dedupe_key is not None:
        written = connection.exec_driver_sql(WRITTEN_BEFORE, params).scalar()
    if written is None:
        raise UnknownRecipient(
            f"WhatsApp account {message.whatsapp_account_id} is not user {message.user_id}'s"
        )
    return written
