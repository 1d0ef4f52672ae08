"""Meta's ``error.code`` → the family of ``tripcast.whatsapp.api_errors`` it belongs to,
and an error answer (whatever its body looks like) read into that family's exception.
"""

from __future__ import annotations

import json
from typing import Any

from tripcast.whatsapp.api_errors import (
    AccountError,
    AuthError,
    CallLimitError,
    ConfigurationError,
    ExperimentError,
    MarketingLimitError,
    MediaError,
    NotRegisteredError,
    OutsideWindowError,
    PairRateLimitError,
    ParameterError,
    PaymentError,
    PermanentError,
    QualityLimitError,
    RecipientError,
    ServerError,
    TemplateError,
    TemplatePausedError,
    ThroughputLimitError,
    WhatsAppError,
)

_CLASS_BY_CODE: dict[int, type[WhatsAppError]] = {
    130429: ThroughputLimitError,
    131056: PairRateLimitError,
    4: CallLimitError,
    80007: CallLimitError,
    1: ServerError,  # Graph API "unknown", possibly a server error: retry
    2: ServerError,  # Graph API service temporarily unavailable
    131000: ServerError,
    131016: ServerError,
    131048: QualityLimitError,
    131049: MarketingLimitError,
    130472: ExperimentError,
    131053: MediaError,
    131008: ParameterError,
    131009: ParameterError,
    131047: OutsideWindowError,
    132000: TemplateError,
    132001: TemplateError,
    132015: TemplatePausedError,
    132016: TemplateError,  # the template is disabled for good
    131026: RecipientError,
    131021: RecipientError,
    131050: RecipientError,
    131051: PermanentError,
    100: PermanentError,
    # This process cannot send (see CannotSendError).
    190: AuthError,
    0: AuthError,
    3: AuthError,
    10: AuthError,
    368: AccountError,
    131031: AccountError,
    131037: AccountError,
    131045: AccountError,
    131057: AccountError,
    131042: PaymentError,
    133010: NotRegisteredError,
}


# An answer without Meta's error object that says the configured URL, or the road to it,
# is wrong: a redirect (never followed), a proxy or firewall refusing, no such endpoint.
_NOT_THE_MESSAGES_ENDPOINT = frozenset({403, 404, 405, 407})
# Graph API code 100, subcode 33: the object (our phone number id) does not exist or the
# token may not use it; every send would get the same answer.
_NO_SUCH_OBJECT = (100, 33)


def error_class_for(
    code: int | None, http_status: int | None, *, subcode: int | None = None
) -> type[WhatsAppError]:
    """Family for a Meta error code; unknown codes are permanent unless HTTP 5xx."""
    if (code, subcode) == _NO_SUCH_OBJECT:
        return ConfigurationError
    if code is None and http_status is not None and _not_the_endpoint(http_status):
        return ConfigurationError
    if code is not None:
        if code in _CLASS_BY_CODE:
            return _CLASS_BY_CODE[code]
        if 200 <= code <= 299:  # Graph API permission codes
            return AuthError
    if http_status is not None and http_status >= 500:
        return ServerError
    if code is None and http_status == 429:
        return ThroughputLimitError
    if code is None and http_status == 401:
        return AuthError
    return PermanentError


def _not_the_endpoint(http_status: int) -> bool:
    return 300 <= http_status < 400 or http_status in _NOT_THE_MESSAGES_ENDPOINT


def error_from_response(http_status: int, body: bytes | str | dict[str, Any]) -> WhatsAppError:
    """Build the right error from an error answer, whatever its body looks like."""
    parsed, problem = _error_object(body)
    if parsed is None:
        cls = error_class_for(None, http_status)
        return cls(f"HTTP {http_status} with {problem}", http_status=http_status)
    code, subcode = _int_or_none(parsed.get("code")), _int_or_none(parsed.get("error_subcode"))
    error_data = parsed.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    cls = error_class_for(code, http_status, subcode=subcode)
    return cls(
        str(parsed.get("message") or f"HTTP {http_status} error without a message"),
        code=code,
        details=str(details) if details is not None else None,
        fbtrace_id=_optional_str(parsed.get("fbtrace_id")),
        http_status=http_status,
        error_type=_optional_str(parsed.get("type")),
    )


def _error_object(body: bytes | str | dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The ``error`` object of a body, or ``None`` and what was wrong with the body."""
    if isinstance(body, bytes | str):
        if not body:
            return None, "an empty body"
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None, f"a body that is not JSON (truncated?): {_preview(body)}"
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None, f"a JSON body without an 'error' object: {_preview(body)}"
    return body["error"], ""


def _preview(body: object, limit: int = 120) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
