"""Error codes Meta added since the taxonomy was written: each from its documented body,
to the message's next state and the dispatch report's line."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from tests.dispatch.test_outcomes import NOW, send
from tripcast.dispatch.outcomes import errored
from tripcast.dispatch.run_report import DispatchReport
from tripcast.whatsapp.error_codes import error_from_response
from tripcast.whatsapp.retry import decide


def documented(code: int, message: str, details: str) -> dict[str, Any]:
    """An error answer as Meta's error-codes page shows it."""
    return {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
        }
    }


# code, HTTP status, Meta's message, Meta's details, outcome kind, row status
CODES = [
    (
        131049,
        400,
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be "
        "delivered.",
        "limited",
        "pending",
    ),
    (
        130472,
        400,
        "User's number is part of an experiment",
        "Failed to send message because this user's phone number is part of an experiment",
        "withheld",
        "failed",
    ),
    (
        131053,
        400,
        "Media upload error",
        "Unable to upload the media used in the message: the link returned HTTP 404",
        "failed",
        "failed",
    ),
    (
        131008,
        400,
        "Required parameter is missing",
        "The parameter text['body'] is required.",
        "failed",
        "failed",
    ),
    (
        131009,
        400,
        "Parameter value is not valid",
        "Parameter 'template.language.code' is not valid: xx_XX",
        "failed",
        "failed",
    ),
    (131042, 400, "Business eligibility payment issue", "Payment method missing", "stopped",
     "pending"),
    (368, 403, "Temporarily blocked for policies violations", "Blocked", "stopped", "pending"),
    (131037, 400, "WhatsApp provided number needs display name approval before message can "
     "be sent.", "Display name not approved", "stopped", "pending"),
    (131045, 400, "Incorrect certificate", "Phone number registration error", "stopped",
     "pending"),
    (133010, 400, "Phone number Not Registered", "The phone number is not registered on the "
     "WhatsApp Business Platform.", "stopped", "pending"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "status", "message", "details", "kind", "row"), CODES)
def test_each_code_ends_the_message_as_documented(
    code: int, status: int, message: str, details: str, kind: str, row: str
) -> None:
    error = error_from_response(status, documented(code, message, details))
    outcome, log = errored(send(), error, now=NOW, max_attempts=5, rng=random.Random(3))
    assert (outcome.kind, outcome.status, outcome.reason) == (kind, row, str(code))
    assert (log.status, log.error_code) == ("failed", code)
    if row == "failed":
        assert outcome.failed_reason is not None
        assert outcome.failed_reason.startswith(f"{code}: {message}")
        assert details in outcome.failed_reason  # names the parameter, the media, ...


def test_the_marketing_limit_is_not_tried_again_within_24_hours() -> None:
    error = error_from_response(400, documented(131049, "not delivered", "engagement"))
    for attempt in range(1, 5):
        outcome, _ = errored(send(retry_count=attempt - 1), error, now=NOW, max_attempts=5)
        assert outcome.next_attempt_at is not None
        assert outcome.next_attempt_at - NOW >= timedelta(hours=24)
        assert (outcome.failed_reason, outcome.error_code) == (None, None)
    assert decide(error, attempt=1, max_attempts=5).action == "retry"


def test_the_report_counts_limited_and_withheld_apart_from_failures() -> None:
    report = DispatchReport()
    outcomes = []
    for code, status, message, details, *_ in CODES[:3]:
        error = error_from_response(status, documented(code, message, details))
        outcomes.append(errored(send(), error, now=NOW, max_attempts=5)[0])
    report.add_batch(outcomes, claimed=3, attempts=3)
    counts = report.counts()
    assert (counts["limited"], counts["withheld"], counts["failed"]) == (1, 1, 1)
    assert {row["outcome"]: row["meta_code"] for row in report.rows()} == {
        "limited": 131049,
        "withheld": 130472,
        "failed": 131053,
    }
    assert "1 limited" in report.summary() and "1 withheld" in report.summary()
