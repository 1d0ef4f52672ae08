"""``tripcast senders add | list | pause | resume | sync``: the business numbers tripcast
sends from.

Every step first seeds today's single number (``TRIPCAST_WHATSAPP_PHONE_NUMBER_ID``) as
the default sender when the table is empty.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError


def _engine_with_default() -> Any:
    from tripcast.commands.runtime import migrated_engine
    from tripcast.senders.registry import seed_default
    from tripcast.settings import get_settings

    settings = get_settings()
    engine = migrated_engine()
    with engine.begin() as connection:
        seed_default(
            connection,
            phone_number_id=settings.whatsapp_phone_number_id,
            waba_id=settings.whatsapp_business_account_id,
        )
    return engine


def _add(args: argparse.Namespace) -> int:
    from tripcast.models.senders import WhatsAppSenderCreate
    from tripcast.senders.registry import add_sender

    try:
        sender = WhatsAppSenderCreate(
            phone_number_id=args.phone_number_id,
            waba_id=args.waba_id,
            display_number=args.display_number,
            markets=[m for item in args.market for m in item.split(",")],
            send_rate=args.rate,
            messaging_limit_tier=args.tier,
        )
    except ValidationError as error:
        problem = error.errors()[0]
        raise ValueError(f"sender {problem['loc'][0]}: {problem['msg']}") from None
    with _engine_with_default().begin() as connection:
        add_sender(connection, sender)
    print(f"sender {sender.phone_number_id} added")
    return 0


def _list(args: argparse.Namespace) -> int:
    from tripcast.senders.registry import list_senders
    from tripcast.settings import get_settings

    settings = get_settings()
    with _engine_with_default().connect() as connection:
        senders = list_senders(connection)
    if not senders:
        print("no senders (set TRIPCAST_WHATSAPP_PHONE_NUMBER_ID or `tripcast senders add`)")
    for sender in senders:
        is_default = sender.phone_number_id == settings.whatsapp_phone_number_id
        default = " (default)" if is_default else ""
        rate = f"{sender.send_rate:g}/s" if sender.send_rate else f"{settings.send_rate:g}/s"
        reason = f" — {sender.paused_reason}" if sender.paused_reason else ""
        print(
            f"{sender.phone_number_id}{default} {sender.display_number or '-'} "
            f"markets={','.join(sender.markets) or '-'} rate={rate} "
            f"tier={sender.messaging_limit_tier or '-'} quality={sender.quality_rating} "
            f"throughput={sender.throughput_level or '-'} status={sender.status}{reason}"
        )
    return 0


def _set_status(args: argparse.Namespace, *, status: str, reason: str | None) -> int:
    from tripcast.senders.registry import set_status

    with _engine_with_default().begin() as connection:
        sender = set_status(
            connection, args.phone_number_id, status=status, reason=reason, now=datetime.now(UTC)
        )
    print(f"sender {sender.phone_number_id} {sender.status}")
    return 0


def _pause(args: argparse.Namespace) -> int:
    return _set_status(args, status="paused", reason=args.reason or "paused by an operator")


def _resume(args: argparse.Namespace) -> int:
    return _set_status(args, status="active", reason=None)


def _sync(args: argparse.Namespace) -> int:
    from tripcast.commands.runtime import parse_now
    from tripcast.senders.sync import sync_from_settings
    from tripcast.settings import get_settings

    settings = get_settings()
    settings.require("whatsapp_access_token")
    engine = _engine_with_default()
    now = parse_now(args.now) or datetime.now(UTC)
    report = asyncio.run(sync_from_settings(engine, settings, now=now))
    for line in report.synced_lines():
        print(line)
    for line in report.refused_lines():
        print(f"tripcast: sender {line}", file=sys.stderr)
    print(f"senders synced: {len(report.synced)} read, {len(report.refused)} refused")
    return 1 if report.refused else 0


def register(commands: Any) -> None:
    parser = commands.add_parser("senders", help="the business phone numbers sent from")
    steps = parser.add_subparsers(dest="senders_command", required=True, metavar="STEP")
    add = steps.add_parser("add", help="add a phone number id to send from")
    add.add_argument("phone_number_id")
    add.add_argument("--waba-id")
    add.add_argument("--display-number")
    add.add_argument(
        "--market",
        action="append",
        default=[],
        help="a country (PT) or calling code (351) it serves; repeat or comma-separate",
    )
    add.add_argument("--rate", type=float, help="messages per second (default TRIPCAST_SEND_RATE)")
    add.add_argument("--tier", help="messaging-limit tier, e.g. TIER_2K")
    add.set_defaults(handler=_add)
    steps.add_parser("list", help="every sender with its state").set_defaults(handler=_list)
    pause = steps.add_parser("pause", help="hold a sender's messages (they wait, never fail)")
    pause.add_argument("phone_number_id")
    pause.add_argument("--reason")
    pause.set_defaults(handler=_pause)
    resume = steps.add_parser("resume", help="let a paused sender send again")
    resume.add_argument("phone_number_id")
    resume.set_defaults(handler=_resume)
    sync = steps.add_parser(
        "sync", help="read each sender's quality, messaging-limit tier and throughput from Meta"
    )
    sync.add_argument("--now", help="the instant to record, ISO 8601 with a timezone")
    sync.set_defaults(handler=_sync)
