from __future__ import annotations

import pytest

from tests.whatsapp.meta_bodies import meta_error, meta_error_bytes
from tripcast.whatsapp.api_errors import (
    AccountError,
    AuthError,
    CallLimitError,
    CannotSendError,
    ConfigurationError,
    ExperimentError,
    MalformedResponseError,
    MarketingLimitError,
    MediaError,
    NetworkError,
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
    ThroughputLimitError,
    WhatsAppError,
)
from tripcast.whatsapp.error_codes import error_from_response

FAMILIES = [
    (130429, 400, ThroughputLimitError, "throughput", True, False),
    (131056, 400, PairRateLimitError, "pair_rate", True, False),
    (4, 400, CallLimitError, "call_limit", True, False),
    (80007, 400, CallLimitError, "call_limit", True, False),
    (131000, 500, ServerError, "server", True, False),
    (131016, 503, ServerError, "server", True, False),
    (131048, 400, QualityLimitError, "quality", True, False),
    (131049, 400, MarketingLimitError, "marketing_limit", True, False),
    (130472, 400, ExperimentError, "experiment", False, False),
    (131053, 400, MediaError, "media", False, False),
    (131008, 400, ParameterError, "parameter", False, False),
    (131009, 400, ParameterError, "parameter", False, False),
    (131047, 400, OutsideWindowError, "permanent", False, False),
    (131026, 400, RecipientError, "permanent", False, False),
    (131051, 400, PermanentError, "permanent", False, False),
    (132000, 400, TemplateError, "permanent", False, False),
    (132001, 404, TemplateError, "permanent", False, False),
    (131021, 400, RecipientError, "permanent", False, False),
    (100, 400, PermanentError, "permanent", False, False),
    (131050, 400, RecipientError, "permanent", False, False),
    (190, 401, AuthError, "auth", False, True),
    (10, 403, AuthError, "auth", False, True),
    (3, 403, AuthError, "auth", False, True),
    (131031, 403, AccountError, "account", False, True),
    (368, 403, AccountError, "account", False, True),
    (131037, 400, AccountError, "account", False, True),
    (131045, 400, AccountError, "account", False, True),
    (131057, 400, AccountError, "account", False, True),
    (131042, 400, PaymentError, "payment", False, True),
    (133010, 400, NotRegisteredError, "not_registered", False, True),
    (1, 500, ServerError, "server", True, False),
    (2, 503, ServerError, "server", True, False),
    (299, 403, AuthError, "auth", False, True),
    (999999, 400, PermanentError, "permanent", False, False),  # unknown code
    (999999, 502, ServerError, "server", True, False),  # unknown code, but HTTP 5xx
]


@pytest.mark.parametrize(("code", "status", "cls", "family", "transient", "fatal"), FAMILIES)
def test_error_family_is_decided_on_meta_code(
    code: int, status: int, cls: type[WhatsAppError], family: str, transient: bool, fatal: bool
) -> None:
    error = error_from_response(status, meta_error_bytes(code, details="why it failed"))
    assert type(error) is cls
    assert (error.family, error.transient, error.fatal) == (family, transient, fatal)
    assert error.code == code
    assert error.http_status == status
    assert error.details == "why it failed"
    assert error.fbtrace_id == "AbCdEf123"
    assert error.in_doubt is False


def test_every_fatal_family_is_one_cannot_send_family() -> None:
    fatal = {cls for _, _, cls, _, _, is_fatal in FAMILIES if is_fatal}
    assert all(issubclass(cls, CannotSendError) for cls in fatal)
    assert not any(
        issubclass(cls, CannotSendError) for _, _, cls, *_ in FAMILIES if cls not in fatal
    )


def test_code_wins_over_http_status() -> None:
    # Meta sends a permanent 131026 even when a proxy marks the answer 500.
    assert type(error_from_response(500, meta_error(131026))) is RecipientError
    # ...and a throughput error keeps its family behind a 400.
    assert type(error_from_response(400, meta_error(130429))) is ThroughputLimitError


@pytest.mark.parametrize(
    ("status", "body", "cls", "fragment"),
    [
        (502, b"<html>Bad Gateway</html>", ServerError, "not JSON"),
        (500, b'{"error": {"code": 131', ServerError, "truncated"),
        (400, b'{"error": {"code": 131', PermanentError, "truncated"),
        (400, b"", PermanentError, "empty body"),
        (429, b"slow down", ThroughputLimitError, "not JSON"),
        (401, b"Unauthorized", AuthError, "not JSON"),
        (400, b'{"message": "no error object"}', PermanentError, "without an 'error'"),
        (400, b"[1, 2]", PermanentError, "without an 'error'"),
        (503, b"\xff\xfe garbage", ServerError, "not JSON"),
        # Not Meta's answer: the configured URL does not reach the messages endpoint.
        (301, b"<html>Moved Permanently</html>", ConfigurationError, "not JSON"),
        (404, b"404: Not Found", ConfigurationError, "not JSON"),
        (403, b"<html>Access denied by proxy</html>", ConfigurationError, "not JSON"),
        (407, b"", ConfigurationError, "empty body"),
    ],
)
def test_unreadable_error_bodies_are_classified_by_status_with_a_clear_message(
    status: int, body: bytes, cls: type[WhatsAppError], fragment: str
) -> None:
    error = error_from_response(status, body)
    assert type(error) is cls
    assert error.code is None
    assert fragment in str(error)
    assert f"HTTP {status}" in str(error)


def test_an_unknown_phone_number_id_is_a_configuration_error() -> None:
    unknown = {
        "error": {
            "message": "Unsupported post request. Object with ID '1' does not exist",
            "type": "GraphMethodException",
            "code": 100,
            "error_subcode": 33,
        }
    }
    error = error_from_response(400, unknown)
    assert type(error) is ConfigurationError
    assert (error.code, error.fatal, error.family) == (100, True, "configuration")
    # Code 100 alone is a parameter of this one message: permanent, not fatal.
    assert type(error_from_response(400, meta_error(100))) is PermanentError


def test_error_from_response_accepts_parsed_json_and_str() -> None:
    assert error_from_response(400, meta_error(132001)).code == 132001
    assert error_from_response(400, '{"error": {"code": 131047}}').code == 131047


def test_error_without_message_still_explains_itself() -> None:
    error = error_from_response(400, {"error": {"code": 131026}})
    assert "HTTP 400" in str(error)
    assert error.details is None


def test_string_code_is_not_trusted() -> None:
    error = error_from_response(503, {"error": {"code": "131026", "message": "odd"}})
    assert type(error) is ServerError
    assert error.code is None


def test_network_errors_are_in_doubt_unless_the_connection_never_opened() -> None:
    assert NetworkError("refused", failure="connect").in_doubt is False
    assert NetworkError("slow", failure="timeout").in_doubt is True
    assert NetworkError("dropped", failure="disconnect").in_doubt is True
    assert NetworkError("x", failure="timeout").transient is True


def test_malformed_success_is_always_in_doubt_and_not_retried() -> None:
    error = MalformedResponseError("200 but no wamid", http_status=200)
    assert error.in_doubt is True
    assert error.transient is False
