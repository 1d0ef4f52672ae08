"""The sender registry (``whatsapp_senders``): seed, add, list, pause, resume, load.

Every function takes a connection and runs one statement; the caller owns the
transaction. The registry is read through SQLModel (``WhatsAppSender``); each row comes
back as a frozen ``Sender``, which routing and pacing hold for a whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection
from sqlmodel import col, select

from tripcast.exceptions import EXIT_CONFIG, TripcastError
from tripcast.models.engine import typed_rows
from tripcast.models.senders import WhatsAppSender, WhatsAppSenderCreate

COLUMNS = (
    "phone_number_id, waba_id, display_number, markets, send_rate, messaging_limit_tier, "
    "quality_rating, status, paused_reason, updated_at, throughput_level, synced_at"
)


class SenderError(TripcastError, ValueError):
    """An operator's request about a sender that cannot be honoured (one clear line)."""

    exit_code = EXIT_CONFIG


@dataclass(frozen=True)
class Sender:
    phone_number_id: str
    waba_id: str | None = None
    display_number: str | None = None
    markets: tuple[str, ...] = ()
    send_rate: float | None = None  # None: TRIPCAST_SEND_RATE
    messaging_limit_tier: str | None = None
    quality_rating: str = "UNKNOWN"
    status: str = "active"
    paused_reason: str | None = None
    updated_at: datetime | None = None
    throughput_level: str | None = None  # Meta's STANDARD / HIGH, from `senders sync`
    synced_at: datetime | None = None


def _sender(row: object) -> Sender:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    values["markets"] = tuple(values["markets"] or ())
    return Sender(**values)


def _sender_of(row: WhatsAppSender) -> Sender:
    values = row.model_dump(include=set(COLUMNS.split(", ")))
    values["markets"] = tuple(values["markets"] or ())
    return Sender(**values)


def seed_default(
    connection: Connection, *, phone_number_id: str | None, waba_id: str | None = None
) -> bool:
    """Insert today's single number as the first sender when the table is empty; its
    rate stays NULL (it follows TRIPCAST_SEND_RATE). True when it was inserted."""
    if not phone_number_id:
        return False
    inserted = connection.exec_driver_sql(
        """
        INSERT INTO public.whatsapp_senders (phone_number_id, waba_id)
        SELECT %(id)s, %(waba)s
        WHERE NOT EXISTS (SELECT FROM public.whatsapp_senders)
        ON CONFLICT (phone_number_id) DO NOTHING
        RETURNING phone_number_id
        """,
        {"id": phone_number_id, "waba": waba_id},
    ).first()
    return inserted is not None


def add_sender(connection: Connection, sender: WhatsAppSenderCreate) -> None:
    inserted = connection.exec_driver_sql(
        """
        INSERT INTO public.whatsapp_senders
          (phone_number_id, waba_id, display_number, markets, send_rate, messaging_limit_tier)
        VALUES (%(phone_number_id)s, %(waba_id)s, %(display_number)s, %(markets)s,
                %(send_rate)s, %(messaging_limit_tier)s)
        ON CONFLICT (phone_number_id) DO NOTHING
        RETURNING phone_number_id
        """,
        sender.model_dump(include=set(COLUMNS.split(", "))),
    ).first()
    if inserted is None:
        raise SenderError(f"sender {sender.phone_number_id} already exists")


def list_senders(connection: Connection) -> list[Sender]:
    statement = select(WhatsAppSender).order_by(
        col(WhatsAppSender.created_at), col(WhatsAppSender.phone_number_id)
    )
    return [_sender_of(row) for row in typed_rows(connection, statement)]


def load_senders(connection: Connection) -> dict[str, Sender]:
    return {sender.phone_number_id: sender for sender in list_senders(connection)}


def set_status(
    connection: Connection,
    phone_number_id: str,
    *,
    status: str,
    reason: str | None,
    now: datetime,
) -> Sender:
    """Pause (``paused``), restrict or resume (``active``) a sender; its row after."""
    row = connection.exec_driver_sql(
        f"""
        UPDATE public.whatsapp_senders
        SET status = %(status)s, paused_reason = %(reason)s, updated_at = %(now)s
        WHERE phone_number_id = %(id)s
        RETURNING {COLUMNS}
        """,
        {"id": phone_number_id, "status": status, "reason": reason, "now": now},
    ).first()
    if row is None:
        raise SenderError(f"no sender {phone_number_id}: see `tripcast senders list`")
    return _sender(row)


def record_reading(
    connection: Connection,
    phone_number_id: str,
    *,
    rating: str,
    tier: str | None,
    throughput_level: str | None,
    display_number: str | None,
    now: datetime,
) -> Sender:
    """Store what the Cloud API said about a sender (a tier it did not name is kept);
    its row after. Its status is the operator's and the webhooks' to change."""
    row = connection.exec_driver_sql(
        f"""
        UPDATE public.whatsapp_senders
        SET quality_rating = %(rating)s,
            messaging_limit_tier = coalesce(%(tier)s, messaging_limit_tier),
            throughput_level = coalesce(%(level)s, throughput_level),
            display_number = coalesce(display_number, %(display)s),
            synced_at = %(now)s, updated_at = %(now)s
        WHERE phone_number_id = %(id)s
        RETURNING {COLUMNS}
        """,
        {
            "id": phone_number_id,
            "rating": rating,
            "tier": tier,
            "level": throughput_level,
            "display": display_number,
            "now": now,
        },
    ).first()
    if row is None:
        raise SenderError(f"no sender {phone_number_id}: see `tripcast senders list`")
    return _sender(row)


def summary_rows(connection: Connection) -> list[dict[str, object]]:
    """One row per sender for the sweep's summary table in the Prefect UI."""
    return [
        {
            "step": "sender",
            "outcome": sender.status,
            "reason": (
                f"{sender.phone_number_id} quality {sender.quality_rating}, "
                f"tier {sender.messaging_limit_tier or '-'}"
                + (f": {sender.paused_reason}" if sender.paused_reason else "")
            ),
            "count": 1,
        }
        for sender in list_senders(connection)
    ]
