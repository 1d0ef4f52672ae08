"""Which business number sends a message, and whether that number may send it now.

The order (DESIGN section 10): the rule's override (``metadata.sender``), else the
number that last talked with the traveller (their latest inbound, or our latest sent
message), else the first sender whose ``markets`` hold the traveller's stored market
(``whatsapp_accounts.market``), else the first whose ``markets`` hold the country of the
phone number (ISO code or calling code), else the default sender. The 24-hour
window is then judged for that number alone: Meta keeps one window per business number.

Pure functions: ``route`` decides for one claimed message, without I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

import phonenumbers

from tripcast.dispatch.message_plan import Claimed
from tripcast.senders.markets import codes_of_market
from tripcast.senders.registry import Sender

MARKETING = 3  # the priority class of marketing messages
# Inbound rows written before senders were recorded carry no number: the default's.
UNATTRIBUTED = ""


@dataclass(frozen=True)
class Senders:
    """The sender table as one batch sees it, and the default (single-number) sender."""

    by_id: Mapping[str, Sender]
    default: str

    @property
    def several(self) -> bool:
        """More than the default number to choose from."""
        return any(number != self.default for number in self.by_id)

    def known(self, phone_number_id: str) -> bool:
        return phone_number_id == self.default or phone_number_id in self.by_id

    def get(self, phone_number_id: str) -> Sender:
        return self.by_id.get(phone_number_id) or Sender(phone_number_id=phone_number_id)


@lru_cache(maxsize=4096)
def markets_of(phone_number: str) -> frozenset[str]:
    """The traveller's country as ISO code and calling code ({"PT", "351"}); empty when
    the number cannot be read (the plan refuses it later)."""
    try:
        number = phonenumbers.parse("+" + phone_number.lstrip("+"))
    except phonenumbers.NumberParseException:
        return frozenset()
    region = phonenumbers.region_code_for_number(number)
    return frozenset(item for item in (region, str(number.country_code)) if item)


def choose(claimed: Claimed, senders: Senders) -> str:
    """The phone number id to send ``claimed`` from (an unknown override is returned as
    is: ``route`` refuses it)."""
    override = claimed.metadata.get("sender")
    if isinstance(override, str) and override.strip():
        return override.strip()
    last = claimed.last_sender
    if last and senders.known(last) and senders.get(last).status != "disabled":
        return last
    with_markets = [s for s in senders.by_id.values() if s.markets]
    if not with_markets:
        return senders.default
    stored = codes_of_market(claimed.market) if claimed.market else frozenset()
    for wanted in (stored, markets_of(claimed.phone_number)):
        serving = [s for s in with_markets if wanted & set(s.markets)]
        serving.sort(key=lambda s: s.status != "active")  # an active one first, then any
        if serving and serving[0].status != "disabled":
            return serving[0].phone_number_id
    return senders.default


def window_start(claimed: Claimed, sender: str, senders: Senders) -> datetime | None:
    """The traveller's last inbound message to ``sender`` (its 24-hour window)."""
    inbound = claimed.inbound_by_sender
    own = inbound.get(sender)
    if sender != senders.default:
        return own
    # The account's last_inbound_at counts for the default unless another number's
    # attributed inbound is as recent (then it was that number's message).
    others = [at for number, at in inbound.items() if number not in (sender, UNATTRIBUTED)]
    candidates = [at for at in (own, inbound.get(UNATTRIBUTED)) if at is not None]
    last = claimed.last_inbound_at
    if last is not None and (not others or last > max(others)):
        candidates.append(last)
    return max(candidates, default=None)


def route(claimed: Claimed, senders: Senders) -> Claimed | str:
    """``claimed`` bound to its sender and that sender's window, or why it cannot be."""
    if not senders.several and "sender" not in claimed.metadata:
        return replace(claimed, sender=senders.default)  # one number: its window is the account's
    sender = choose(claimed, senders)
    if not senders.known(sender):
        return f"unknown sender {sender} in metadata.sender"
    return replace(claimed, sender=sender, last_inbound_at=window_start(claimed, sender, senders))


def hold_reason(sender: Sender, *, priority: int) -> str | None:
    """Why this sender's message waits now (None: it may go). Paused and disabled
    numbers hold everything; a restricted or RED number holds marketing only."""
    if sender.status in ("paused", "disabled"):
        return f"sender {sender.phone_number_id} {sender.status}: {sender.paused_reason or '-'}"
    if priority >= MARKETING and sender.status == "restricted":
        return f"sender {sender.phone_number_id} restricted: {sender.paused_reason or '-'}"
    if priority >= MARKETING and sender.quality_rating == "RED":
        return f"sender {sender.phone_number_id} quality RED: marketing paused"
    return None
