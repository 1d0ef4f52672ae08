"""The Cloud API's errors as a taxonomy decided on Meta's ``error.code``.

Meta answers many unrelated failures with HTTP 400, so the HTTP status only decides
when there is no error code (a proxy's page, a truncated body, a dropped connection).
Each family says whether waiting helps (``transient``), whether this process cannot
send at all so the whole run must stop (``fatal``: ``CannotSendError``), how long to
wait at least (``wait_hint_seconds``) and whether the message may have been accepted
although the call failed (``in_doubt``). Which family a code belongs to, and reading
an error answer into one, is ``tripcast.whatsapp.error_codes``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from tripcast.exceptions import TripcastError

NetworkFailure = Literal["connect", "timeout", "disconnect"]


class WhatsAppError(TripcastError):
    """A send that the Cloud API (or the road to it) did not accept."""

    family: ClassVar[str] = "unknown"
    transient: ClassVar[bool] = False
    fatal: ClassVar[bool] = False
    wait_hint_seconds: ClassVar[float] = 0.0

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        http_status: int | None = None,
        error_type: str | None = None,
        in_doubt: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.error_type = error_type
        self.in_doubt = in_doubt

    def __str__(self) -> str:
        parts = [self.message]
        if self.details and self.details not in self.message:
            parts.append(f"({self.details})")
        if self.code is not None:
            parts.append(f"[code {self.code}]")
        if self.http_status is not None:
            parts.append(f"[HTTP {self.http_status}]")
        if self.fbtrace_id:
            parts.append(f"[fbtrace_id {self.fbtrace_id}]")
        return " ".join(parts)


class ThroughputLimitError(WhatsAppError):
    """130429: the phone number's messages-per-second throughput was reached."""

    family = "throughput"
    transient = True
    wait_hint_seconds = 1.0


class PairRateLimitError(WhatsAppError):
    """131056: too many messages to the same recipient in a short time (wait 4^n s)."""

    family = "pair_rate"
    transient = True
    wait_hint_seconds = 4.0


class CallLimitError(WhatsAppError):
    """4 / 80007: the app's or the business account's API call budget is spent."""

    family = "call_limit"
    transient = True
    wait_hint_seconds = 60.0


class ServerError(WhatsAppError):
    """131000 / 131016 / HTTP 5xx: Meta's side failed; the message was not accepted."""

    family = "server"
    transient = True
    wait_hint_seconds = 1.0


class NetworkError(WhatsAppError):
    """No answer: connection refused, timed out or dropped.

    ``failure`` says which; only a failure to connect proves the request never
    arrived, so timeouts and dropped connections are ``in_doubt``.
    """

    family = "network"
    transient = True
    wait_hint_seconds = 0.5

    def __init__(self, message: str, *, failure: NetworkFailure, **kwargs: Any) -> None:
        kwargs.setdefault("in_doubt", failure != "connect")
        super().__init__(message, **kwargs)
        self.failure: NetworkFailure = failure


class QualityLimitError(WhatsAppError):
    """131048: the number's spam-rate limit; back off for hours."""

    family = "quality"
    transient = True
    wait_hint_seconds = 3600.0


class MarketingLimitError(WhatsAppError):
    """131049: Meta did not deliver this marketing message "to maintain healthy ecosystem
    engagement" (the per-user marketing message limit). Not a failure of the message:
    Meta's guidance is to try this traveller again no sooner than 24 hours later."""

    family = "marketing_limit"
    transient = True
    wait_hint_seconds = 24 * 3600.0


class PermanentError(WhatsAppError):
    """Retrying the same request cannot succeed (bad recipient, template, parameter)."""

    family = "permanent"


class ExperimentError(PermanentError):
    """130472: the traveller's number is part of Meta's marketing message experiment, so
    Meta withheld the message. Nothing of ours to fix, and retrying cannot help."""

    family = "experiment"


class MediaError(PermanentError):
    """131053: Meta could not upload the media of the message (unreachable link, wrong
    MIME type, too large); ``details`` says which."""

    family = "media"


class ParameterError(PermanentError):
    """131008 (a required parameter is missing) / 131009 (a parameter value is not
    valid): the request itself is wrong; ``details`` names the parameter."""

    family = "parameter"


class OutsideWindowError(PermanentError):
    """131047: over 24 h since the traveller's last message; only a template may go."""


class TemplateError(PermanentError):
    """132000 / 132001 / 132016: the template is missing or disabled, or its parameters
    do not match."""


class TemplatePausedError(WhatsAppError):
    """132015: the template is paused for low quality; it may be reinstated, so wait."""

    family = "template_paused"
    transient = True
    wait_hint_seconds = 300.0


class RecipientError(PermanentError):
    """131026 / 131021 / 131050: this recipient cannot get this message."""


class CannotSendError(WhatsAppError):
    """This process cannot send at all: every further send fails the same way until
    someone fixes the cause (a token, a setting, the business account, its payment).

    ``fatal``: a dispatch run stops at once and leaves its claimed messages pending,
    never failed, so they go out on the first run after the fix.
    """

    family = "cannot_send"
    fatal = True


class AuthError(CannotSendError):
    """190 token expired, 0 / 3 / 10 / 200-299 authentication and permissions."""

    family = "auth"


class AccountError(CannotSendError):
    """The business account or its number may not send: 368 blocked for policy
    violations, 131031 account locked, 131037 display name not approved, 131045
    certificate, 131057 maintenance mode."""

    family = "account"


class PaymentError(AccountError):
    """131042: the business account has a payment problem (no valid payment method)."""

    family = "payment"


class NotRegisteredError(AccountError):
    """133010: our business phone number is not registered on the Cloud API, so every
    send from it fails the same way until it is registered (``POST /{id}/register``)."""

    family = "not_registered"


class ConfigurationError(CannotSendError):
    """This process's settings cannot reach the messages endpoint: a request HTTP refuses
    to build (an access token or URL ending in a newline: nothing was sent), an answer
    that is not Meta's (a redirect, a 403 / 404 / 405 / 407 without an error code), or
    Graph API 100 / subcode 33 (the phone number id does not exist for this token)."""

    family = "configuration"


class MalformedResponseError(WhatsAppError):
    """HTTP 200 whose body is not a send result: accepted, but the wamid is unknown."""

    family = "malformed_response"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs["in_doubt"] = True
        super().__init__(message, **kwargs)
