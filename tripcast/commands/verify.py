"""``tripcast verify start --user ID --phone NUMBER`` and ``tripcast verify confirm``.

These call phone verification directly rather than through its Prefect flows: support
staff get an answer at once, without an orchestrator, and the code a traveller reads
out never lands in a flow run's stored parameters.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from tripcast.commands.runtime import migrated_engine, parse_now

EXIT_REFUSED = 1


def _start(args: argparse.Namespace) -> int:
    from tripcast.verification import VerificationError, start_verification

    now = parse_now(args.now) or datetime.now(UTC)
    engine = migrated_engine()
    try:
        sent = start_verification(
            engine, args.user, args.phone, now=now, default_region=args.region
        )
    except VerificationError as error:
        return _refused(error)
    outcome = sent.as_outcome()
    print(
        f"code queued for {outcome['phone']} (message {outcome['message_id']}); "
        f"it expires at {sent.expires_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z"
    )
    return 0


def _confirm(args: argparse.Namespace) -> int:
    from tripcast.verification import VerificationError, confirm_verification

    now = parse_now(args.now) or datetime.now(UTC)
    engine = migrated_engine()
    try:
        verified = confirm_verification(engine, args.user, args.code, now=now)
    except VerificationError as error:
        return _refused(error)
    print(f"phone number {verified.as_outcome()['phone']} verified; the traveller is opted in")
    return 0


def _refused(error: Exception) -> int:
    print(f"tripcast: {error}", file=sys.stderr)
    return EXIT_REFUSED


def _user_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a user id (UUID): {text!r}") from None


def register(commands: Any) -> None:
    parser = commands.add_parser("verify", help="phone verification by one-time code")
    verify = parser.add_subparsers(dest="verify_command", required=True, metavar="STEP")
    start = verify.add_parser("start", help="send the traveller a verification code")
    start.add_argument("--user", required=True, type=_user_id, help="the auth.users id")
    start.add_argument("--phone", required=True, help="the number, e.g. +351 912 345 678")
    start.add_argument("--region", help="ISO country for national numbers, e.g. PT")
    start.add_argument("--now", help="the instant to act at, ISO 8601 with a timezone")
    start.set_defaults(handler=_start)
    confirm = verify.add_parser("confirm", help="check the code the traveller received")
    confirm.add_argument("--user", required=True, type=_user_id, help="the auth.users id")
    confirm.add_argument("--code", required=True, help="the six-digit code")
    confirm.add_argument("--now", help="the instant to act at, ISO 8601 with a timezone")
    confirm.set_defaults(handler=_confirm)
