"""The WhatsApp 24-hour customer service window and the message form it allows.

Free-form text may be sent only while the traveller's last inbound message is strictly
less than 24 hours old; otherwise only an approved template may be sent. An inbound
timestamp slightly in the future (clock skew between Meta and us) counts as open.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from tripcast.rules._tz import require_aware

WINDOW = timedelta(hours=24)

MessageForm = Literal["text", "template"]
FailReason = Literal["outside_24h_window_without_template", "no_text_or_template"]
FAIL_REASONS: tuple[FailReason, ...] = (
    "outside_24h_window_without_template",
    "no_text_or_template",
)


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """True while ``now - last_inbound_at < 24 h``; ``None`` (never wrote to us) → closed."""
    require_aware(now, "now")
    if last_inbound_at is None:
        return False
    return now - require_aware(last_inbound_at, "last_inbound_at") < WINDOW


def choose_message_form(
    *, has_text: bool, has_template: bool, window_open: bool
) -> MessageForm | FailReason:
    """``"text"`` when the window is open and there is a text body, else ``"template"`` when
    there is one, else the reason the message cannot be sent.

    Prefers text inside the window: a rule's ``text`` is written for exactly that case.
    """
    if has_text and window_open:
        return "text"
    if has_template:
        return "template"
    if has_text:
        return "outside_24h_window_without_template"
    return "no_text_or_template"
