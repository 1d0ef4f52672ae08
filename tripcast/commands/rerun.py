"""``tripcast rerun-failed [filters] [--dry-run]``: re-queue failed messages.

Runs the ``rerun-failed`` flow, as its deployment would, so every rerun is recorded in
Prefect with its summary artifact, then prints the counts by outcome and reason.
"""

from __future__ import annotations

import argparse
import getpass
import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tripcast.commands.runtime import migrated_engine, parse_now, prepare_prefect_home, run_flow

COLUMNS = ("outcome", "reason", "template", "count")


def _rerun(args: argparse.Namespace) -> int:
    from tripcast.reruns.selection import Selection

    filters: dict[str, Any] = {
        "since": args.since,
        "until": args.until,
        "templates": args.template,
        "error_codes": args.error_code,
        "user_ids": args.user,
        "rule_ids": args.rule,
        "include_permanent": args.include_permanent,
        "include_expired": args.include_expired,
        "expires_in": args.expires_in,
    }
    Selection(**filters)  # bad filters fail here, in one line, before Prefect starts
    now = parse_now(args.now)
    migrated_engine()
    prepare_prefect_home()
    from prefect import tags

    from tripcast.flows.reruns import rerun_failed

    with tags("tripcast", "rerun", "cli"):
        result = run_flow(
            lambda: rerun_failed(
                **filters, dry_run=args.dry_run, operator=args.operator, note=args.note, now=now
            ),
            what="rerun",
        )
    if result is None:
        return 1
    print(render(result))
    return 0


def render(result: dict[str, Any]) -> str:
    """A headline and the counts as a plain-text table."""
    excluded = sum(result["excluded"].values())
    if result["dry_run"]:
        headline = f"dry run: {result['would_requeue']} would be re-queued, {excluded} excluded"
    else:
        headline = f"re-queued {result['requeued']}, excluded {excluded} (run {result['run_id']})"
    rows = [[str(row[column]) for column in COLUMNS] for row in result["rows"]]
    return "\n".join([headline, *_table([list(COLUMNS), *rows])])


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    if len(rows) == 1:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    return lines


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"must carry a timezone (e.g. {text}Z), got {text!r}")
    return moment


DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _duration(text: str) -> timedelta:
    match = DURATION.match(text)
    if match is None or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(f"a positive duration like 30m, 2h or 1d, got {text!r}")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UUID: {text!r}") from None


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return None


def register(commands: Any) -> None:
    rerun = commands.add_parser(
        "rerun-failed",
        help="re-queue failed messages by time window, template, error code, user or rule",
    )
    rerun.add_argument("--since", type=_instant, help="failed at or after (ISO 8601, aware)")
    rerun.add_argument("--until", type=_instant, help="failed before (default: now)")
    rerun.add_argument("--template", action="append", help="template name (repeatable)")
    rerun.add_argument("--error-code", type=int, action="append", help="Meta error code")
    rerun.add_argument("--user", type=_uuid, action="append", help="traveller's user id")
    rerun.add_argument("--rule", type=_uuid, action="append", help="automation rule id")
    rerun.add_argument(
        "--include-permanent",
        action="store_true",
        help="also re-queue permanent failures (131026, 131050, opted-out, ...)",
    )
    rerun.add_argument(
        "--include-expired",
        action="store_true",
        help="also re-queue messages that expired unsent (needs --expires-in)",
    )
    rerun.add_argument(
        "--expires-in",
        type=_duration,
        help="the new expiry of re-queued expired messages, from now: 30m, 2h, 1d",
    )
    rerun.add_argument("--dry-run", action="store_true", help="count by reason, change nothing")
    rerun.add_argument("--note", help="why, recorded on every re-queued message")
    rerun.add_argument("--operator", default=_login(), help="who (default: your login)")
    rerun.add_argument("--now", help="the instant to act at, ISO 8601 with a timezone")
    rerun.set_defaults(handler=_rerun)
