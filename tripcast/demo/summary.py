"""The demo's closing summary, read back from the database."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from tripcast.demo.costs import costs_block

MESSAGES_BY_STATUS = """
SELECT direction, status, count(*) FROM public.whatsapp_messages GROUP BY 1, 2
"""
SKIPS_BY_REASON = """
SELECT coalesce(result ->> 'reason', 'unknown'), count(*) FROM public.scheduled_jobs
WHERE status = 'cancelled' GROUP BY 1
"""
FAILURES_BY_CODE = """
SELECT coalesce(error_code::text, left(failed_reason, 40)), count(*)
FROM public.whatsapp_messages WHERE status = 'failed' GROUP BY 1
"""
JOBS_BY_STATUS = "SELECT status, count(*) FROM public.scheduled_jobs GROUP BY 1"
CONSENT = "SELECT outcome, count(*) FROM public.consent_events GROUP BY 1"
LOGS = "SELECT status, count(*) FROM public.delivery_logs GROUP BY 1"
READ_RECEIPTS = """
SELECT 'marked read', count(*) FILTER (WHERE metadata ? 'read_marked_at')
FROM public.whatsapp_messages WHERE direction = 'inbound'
UNION ALL SELECT 'typing indicator shown', count(*)
FROM public.whatsapp_messages WHERE direction = 'inbound' AND metadata @> '{"typing_shown": true}'
"""
IDENTITY = """
SELECT count(*) FILTER (WHERE bsuid IS NOT NULL),
       count(*) FILTER (WHERE username IS NOT NULL),
       count(*) FILTER (WHERE username IS NOT NULL AND opt_in_status = 'opted_out')
FROM public.whatsapp_accounts
"""


@dataclass
class DemoSummary:
    outbound: Counter[str] = field(default_factory=Counter)
    inbound: int = 0
    skips: Counter[str] = field(default_factory=Counter)
    deferrals: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    jobs: Counter[str] = field(default_factory=Counter)
    consent: Counter[str] = field(default_factory=Counter)
    delivery_logs: Counter[str] = field(default_factory=Counter)
    # Messages of the template paused mid-day: how many waited, then how they ended.
    template_pause: Counter[str] = field(default_factory=Counter)
    # What Meta's status webhooks said the day's messages cost, priced from a sample card.
    costs: list[tuple[str, int | str]] = field(default_factory=list)
    # Inbound messages marked read because an automation answered them.
    read_receipts: Counter[str] = field(default_factory=Counter)
    # Accounts with a business-scoped user ID, with a username (number withheld), and
    # of those the ones a STOP that carried only the BSUID opted out.
    identities: Counter[str] = field(default_factory=Counter)
    # The two business numbers: how each wave of the marketing campaign went out, before
    # and after the PT number was flagged, and that number's state at the end.
    senders: list[tuple[str, int | str]] = field(default_factory=list)


def read_summary(
    engine: Engine,
    *,
    deferrals: int,
    template_pause: Counter[str] | None = None,
    senders: list[tuple[str, int | str]] | None = None,
) -> DemoSummary:
    summary = DemoSummary(
        deferrals=deferrals, template_pause=template_pause or Counter(), senders=senders or []
    )
    with engine.connect() as connection:
        for direction, status, count in connection.exec_driver_sql(MESSAGES_BY_STATUS):
            if direction == "inbound":
                summary.inbound += count
            else:
                summary.outbound[status] += count
        for target, sql in (
            (summary.skips, SKIPS_BY_REASON),
            (summary.failures, FAILURES_BY_CODE),
            (summary.jobs, JOBS_BY_STATUS),
            (summary.consent, CONSENT),
            (summary.delivery_logs, LOGS),
            (summary.read_receipts, READ_RECEIPTS),
        ):
            target.update({key: count for key, count in connection.exec_driver_sql(sql).all()})
        bsuids, usernames, stopped = connection.exec_driver_sql(IDENTITY).one()
    summary.identities.update(
        {"with a BSUID": bsuids, "with a username": usernames, "username, opted out": stopped}
    )
    summary.costs = costs_block(engine)
    return summary


Rows = list[tuple[str, int | str]]


def render(summary: DemoSummary) -> list[tuple[str, Rows]]:
    """Sections of (label, count) rows, in the order the table shows them."""
    statuses = ("pending", "sent", "delivered", "read", "failed")
    sections: list[tuple[str, Rows]] = [
        ("Outbound messages by status", [(s, summary.outbound[s]) for s in statuses]),
        ("Inbound replies", [("received", summary.inbound)]),
        ("Notifications skipped, by reason", sorted(summary.skips.items())),
        ("Deferred for quiet hours", [("deferrals", summary.deferrals)]),
        ("Failures by Meta code / reason", sorted(summary.failures.items())),
        ("Consent changes (STOP / START)", sorted(summary.consent.items())),
        ("Jobs by status", sorted(summary.jobs.items())),
        ("Delivery logs by status", sorted(summary.delivery_logs.items())),
        ("Paused template (trip_reminder)", sorted(summary.template_pause.items())),
        ("Read receipts for answered replies", list(summary.read_receipts.items())),
        ("Costs (Meta's pricing, sample rate card)", summary.costs),
        ("Business-scoped user IDs", sorted(summary.identities.items())),
        ("Two numbers, PT flagged RED at 18:00 (marketing)", summary.senders),
    ]
    return sections


def as_dict(summary: DemoSummary) -> dict[str, dict[str, int | str]]:
    return {
        section: {str(label): count for label, count in rows} for section, rows in render(summary)
    }
