"""The seed's design as a baseline: its ``send-whatsapp-message`` edge function, per message.

For each message, one after the other, as the seed's ``process_scheduled_jobs`` awaits
each call: select the traveller's opted-in account, insert the message row, POST it to
the Cloud API, update the row with the wamid, insert the delivery log. Each statement
commits on its own, as each PostgREST request does.

The baseline is generous to the seed: its statements go straight to PostgreSQL over one
open connection (the seed pays an HTTP round trip to PostgREST for each, and the edge
function's own invocation), and it uses tripcast's HTTP client.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy.engine import Engine

from tripcast.webhooks.deliveries import psycopg_conninfo
from tripcast.whatsapp.api_errors import WhatsAppError
from tripcast.whatsapp.client import WhatsAppClient

TRAVELLERS = """
WITH users AS (
  INSERT INTO auth.users (id, email)
  SELECT gen_random_uuid(), 'seed-design-' || g || '@example.test'
  FROM generate_series(1, %(n)s) AS g
  RETURNING id
), numbered AS (
  SELECT id, row_number() OVER () AS g FROM users
)
INSERT INTO public.whatsapp_accounts
  (user_id, phone_number, country_code, is_verified, opt_in_status, last_inbound_at)
SELECT id, '35192' || lpad(g::text, 7, '0'), 'PT', true, 'opted_in', now() FROM numbered
RETURNING user_id
"""
ACCOUNT = """
SELECT * FROM public.whatsapp_accounts WHERE user_id = %s AND opt_in_status = 'opted_in'
"""
INSERT_MESSAGE = """
INSERT INTO public.whatsapp_messages
  (user_id, whatsapp_account_id, trip_id, direction, message_type, content, status)
VALUES (%s, %s, NULL, 'outbound', 'text', %s, 'pending')
RETURNING *
"""
MARK_SENT = "UPDATE public.whatsapp_messages SET external_id = %s, status = 'sent' WHERE id = %s"
LOG = """
INSERT INTO public.delivery_logs
  (user_id, whatsapp_message_id, channel, recipient, status, provider_response)
VALUES (%s, %s, 'whatsapp', %s, 'sent', %s)
"""
MARK_FAILED = (
    "UPDATE public.whatsapp_messages SET status = 'failed', failed_reason = %s WHERE id = %s"
)
BODY = "Your trip starts tomorrow"


def seed_travellers(engine: Engine, count: int) -> list[uuid.UUID]:
    """``count`` opted-in travellers with an account and no message yet."""
    with engine.begin() as connection:
        rows = connection.exec_driver_sql(TRAVELLERS, {"n": count}).all()
    return [row[0] for row in rows]


def measure_seed_design(
    engine: Engine, client_factory: Any, *, users: list[uuid.UUID]
) -> dict[str, Any]:
    """Send one message to each of ``users`` the seed's way; rate and counts."""
    conninfo = psycopg_conninfo(engine.url.render_as_string(hide_password=False))
    started = time.perf_counter()
    sent = asyncio.run(_send_all(conninfo, client_factory, users=users))
    seconds = time.perf_counter() - started
    return {
        "messages": len(users),
        "sent": sent,
        "seconds": round(seconds, 2),
        "per_second": round(sent / seconds, 2) if seconds else 0.0,
    }


async def _send_all(conninfo: str, client_factory: Any, *, users: list[uuid.UUID]) -> int:
    sent = 0
    async with (
        await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as db,
        client_factory() as client,
    ):
        for user_id in users:
            sent += await _send_one(db, client, user_id=user_id)
    return sent


async def _send_one(db: psycopg.AsyncConnection, client: WhatsAppClient, *, user_id: Any) -> int:
    cursor = db.cursor(row_factory=dict_row)
    account = await (await cursor.execute(ACCOUNT, (user_id,))).fetchone()
    if account is None:
        return 0
    record = await (await cursor.execute(INSERT_MESSAGE, (user_id, account["id"], BODY))).fetchone()
    assert record is not None
    try:
        result = await client.send_text(account["phone_number"], BODY)
    except WhatsAppError as error:
        await cursor.execute(MARK_FAILED, (str(error), record["id"]))
        return 0
    await cursor.execute(MARK_SENT, (result.message_id, record["id"]))
    response = Jsonb(result.model_dump())
    await cursor.execute(LOG, (user_id, record["id"], account["phone_number"], response))
    return 1
