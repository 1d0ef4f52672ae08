"""Spacing the sends to one traveller: Meta's pair rate.

Meta refuses a message sent to a recipient who got one from the same number moments
before (131056, about one message per 6 s per recipient). A dispatcher that claims a
traveller's trip reminder and budget alert in one batch would earn that refusal for one
of them, and its retries could collide again. So each dispatch run remembers when it
last let a message go to each recipient and holds back any other for that recipient
until the spacing has passed: back to the queue with no attempt used, due again then.

The memory is the run's own (several dispatchers on one traveller within seconds are
rare; Meta's 131056 and its backoff still cover them).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from tripcast.dispatch.message_plan import Send
from tripcast.whatsapp.phone import normalize_phone

PAIR_SPACING_REASON = "pair rate spacing"
# Past this many remembered recipients, the ones already free again are forgotten.
PRUNE_ABOVE = 10_000


class RecipientSpacing:
    def __init__(self, *, spacing: timedelta, batch_span: timedelta) -> None:
        """``spacing`` between two sends to one recipient; ``batch_span``: how long after
        its claim a batch may still be sending (its send may come that late)."""
        self.spacing = spacing
        self.batch_span = batch_span
        # Per recipient: when another message may go, and which message went (or was
        # let go: one handed back unsent may come again without waiting for itself).
        self._free_at: dict[str, tuple[datetime, uuid.UUID]] = {}

    def split(
        self, sends: Sequence[Send], *, now: datetime
    ) -> tuple[list[Send], list[tuple[Send, datetime]]]:
        """The sends that may go in this batch, and the others with when they may."""
        if len(self._free_at) > PRUNE_ABOVE:
            self._free_at = {key: held for key, held in self._free_at.items() if held[0] > now}
        ready: list[Send] = []
        held: list[tuple[Send, datetime]] = []
        for send in sends:
            # Valid: plan_message refuses a number that does not normalise, unless it
            # sends to the account's BSUID instead.
            recipient = send.recipient or normalize_phone(send.claimed.phone_number)
            free_at, holder = self._free_at.get(recipient, (now, send.claimed.id))
            if now < free_at and holder != send.claimed.id:
                held.append((send, free_at))
                continue
            self._free_at[recipient] = (now + self.batch_span + self.spacing, send.claimed.id)
            ready.append(send)
        return ready, held
