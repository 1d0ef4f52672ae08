"""The error a dispatch run raises when it must not go on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tripcast.dispatch.outcomes import describe
from tripcast.exceptions import TripcastError
from tripcast.whatsapp.api_errors import WhatsAppError

if TYPE_CHECKING:
    from tripcast.dispatch.run_report import DispatchReport

# What an operator does about each family of "this process cannot send".
_HINTS = {
    "configuration": "fix the TRIPCAST_WHATSAPP_* settings",
    "payment": "settle the WhatsApp Business account's payment method",
    "account": "check the WhatsApp Business account and its phone number in WhatsApp Manager",
}


class DispatchStopped(TripcastError, RuntimeError):
    """This process cannot send (``CannotSendError``: 190 token expired, a setting HTTP
    refuses, a locked or unpaid account, ...): every further send would fail.

    The run stopped at once; unsent messages stay pending and are sent by the first run
    after the cause is fixed. ``str()`` is one line for an operator; ``report`` holds
    what the run did before stopping.
    """

    def __init__(self, error: WhatsAppError, *, report: DispatchReport, left_pending: int) -> None:
        self.error = error
        self.report = report
        self.left_pending = left_pending
        super().__init__(
            f"dispatch stopped: this process cannot send ({describe(error)}); "
            f"{left_pending} claimed messages left pending; {hint(error)}, then run again"
        )


def hint(error: WhatsAppError) -> str:
    if error.code == 190:
        return "renew TRIPCAST_WHATSAPP_ACCESS_TOKEN"
    return _HINTS.get(error.family, "check the access token's permissions and the account")
