"""What one ingest batch (or a drain of many) did, for logs, the CLI and Prefect."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from tripcast.webhooks.identity import IdentityOutcome
from tripcast.webhooks.inbound import InboundOutcome
from tripcast.webhooks.receipts import ReceiptOutcome
from tripcast.webhooks.review import NoticeOutcome
from tripcast.webhooks.stop_start import ConsentOutcome
from tripcast.webhooks.user_preferences import MarketingOutcome


@dataclass
class IngestReport:
    deliveries: int = 0  # claimed in this batch
    rejected: int = 0  # deliveries whose envelope is broken, rejected with their reason
    items_rejected: int = 0  # single items that can never apply; the rest of theirs applied
    # Kept in the stored delivery but not applied, by what: field:account_update,
    # status:played, value:errors, ...
    unused: Counter[str] = field(default_factory=Counter)
    notices: Counter[str] = field(default_factory=Counter)  # number/identity changes, edits
    review_items: int = 0  # new rows in webhook_review_items
    failed: int = 0  # failed to apply; retried later, rejected after max_attempts
    backlog_retried: int = 0  # kept receipts retried
    receipts: int = 0
    receipts_matched: int = 0
    messages_updated: Counter[str] = field(default_factory=Counter)  # by new status
    delivery_logs: int = 0
    receipts_unmatched: int = 0  # kept (or still kept) for a later retry
    receipts_given_up: int = 0
    backlog_applied: int = 0
    inbound: int = 0
    inbound_stored: int = 0
    inbound_duplicates: int = 0
    unknown_senders: int = 0
    opted_out: int = 0
    opted_in: int = 0
    consent_unchanged: int = 0
    consent_stale: int = 0
    cancelled_messages: int = 0
    cancelled_jobs: int = 0
    template_updates: int = 0  # template catalog rows changed by template webhooks
    identities_learned: int = 0  # accounts that learned a BSUID or username
    identity_conflicts: int = 0  # a BSUID another account already holds: not applied
    unknown_senders_linked: int = 0  # kept messages stored as an account's, by BSUID
    # Meta's marketing consent signals (user_preferences, error 131050)
    marketing_stopped: int = 0
    marketing_resumed: int = 0
    marketing_unchanged: int = 0  # includes stale signals
    marketing_unmatched: int = 0  # for no account of ours
    sender_updates: int = 0  # whatsapp_senders rows changed by quality / account webhooks

    @property
    def idle(self) -> bool:
        """Nothing was claimed: the inbox is empty (or other ingesters hold the rest)."""
        return self.deliveries == 0 and self.backlog_retried == 0

    def add_receipts(self, outcome: ReceiptOutcome) -> None:
        self.receipts += outcome.received
        self.receipts_matched += outcome.matched
        self.messages_updated.update(outcome.updated)
        self.delivery_logs += outcome.delivery_logs
        self.receipts_unmatched += outcome.unmatched
        self.receipts_given_up += outcome.given_up
        self.backlog_applied += outcome.retried_applied

    def add_inbound(self, outcome: InboundOutcome) -> None:
        self.inbound += outcome.received
        self.inbound_stored += outcome.stored
        self.inbound_duplicates += outcome.duplicates
        self.unknown_senders += outcome.unknown_senders

    def add_identities(self, outcome: IdentityOutcome) -> None:
        self.identities_learned += outcome.learned
        self.identity_conflicts += outcome.conflicts
        self.unknown_senders_linked += len(outcome.linked)

    def add_marketing(self, outcome: MarketingOutcome) -> None:
        self.marketing_stopped += outcome.stopped
        self.marketing_resumed += outcome.resumed
        self.marketing_unchanged += outcome.unchanged + outcome.stale
        self.marketing_unmatched += outcome.unmatched

    def add_notices(self, outcome: NoticeOutcome) -> None:
        self.items_rejected += outcome.items_rejected
        self.notices.update(outcome.applied)
        self.review_items += outcome.review_items

    def add_consent(self, outcome: ConsentOutcome) -> None:
        self.opted_out += outcome.opted_out
        self.opted_in += outcome.opted_in
        self.consent_unchanged += outcome.unchanged
        self.consent_stale += outcome.stale
        self.cancelled_messages += outcome.cancelled_messages
        self.cancelled_jobs += outcome.cancelled_jobs

    def __iadd__(self, other: IngestReport) -> IngestReport:
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if isinstance(mine, Counter):
                mine.update(theirs)
            else:
                setattr(self, item.name, mine + theirs)
        return self

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("messages_updated", "unused", "notices"):
            data[name] = dict(getattr(self, name))
        return data

    def summary(self) -> str:
        """One line for logs and the command line."""
        updated = sum(self.messages_updated.values())
        return (
            f"{self.deliveries} deliveries ({self.rejected} rejected, {self.failed} failed), "
            f"{self.receipts} receipts: {updated} messages updated, {self.delivery_logs} "
            f"delivery logs, {self.receipts_unmatched} unmatched kept, "
            f"{self.receipts_given_up} given up; {self.inbound_stored} inbound stored, "
            f"{self.unknown_senders} from unknown senders; {self.opted_out} opted out, "
            f"{self.opted_in} opted in; {self.items_rejected} items rejected, "
            f"{sum(self.unused.values())} unused, {sum(self.notices.values())} notices"
        )
