"""The error a dispatch run raises when it must not go on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tripcast.dispatch.outcomes import describe
from tripcast.whatsapp.errors import WhatsAppError

if TYPE_CHECKING:
    from tripcast.dispatch.report import DispatchReport


class DispatchStopped(RuntimeError):
    """An account-wide refusal (190 token expired, ...): every further send would fail.

    The run stopped at once; unsent messages stay pending and are sent by the first run
    after the cause is fixed. ``str()`` is one line for an operator; ``report`` holds
    what the run did before stopping.
    """

    def __init__(self, error: WhatsAppError, *, report: DispatchReport, left_pending: int) -> None:
        self.error = error
        self.report = report
        self.left_pending = left_pending
        hint = (
            "renew TRIPCAST_WHATSAPP_ACCESS_TOKEN"
            if error.code == 190
            else "check the WhatsApp Business account and its permissions"
        )
        super().__init__(
            f"dispatch stopped: WhatsApp refused the account ({describe(error)}); "
            f"{left_pending} claimed messages left pending; {hint}, then run again"
        )
