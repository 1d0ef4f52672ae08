"""Codes, their hashes and the re-send throttle: pure functions, tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tripcast.verification import MalformedCode, ResendThrottled, VerificationPolicy
from tripcast.verification.codes import (
    code_matches,
    hash_code,
    message_content,
    message_metadata,
    new_code,
    normalise_code,
)
from tripcast.whatsapp.messages import TemplateMessage

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_new_codes_are_six_digits_and_vary() -> None:
    drawn = {new_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in drawn)
    assert len(drawn) > 190


def test_hash_is_salted_and_checks_only_its_code() -> None:
    first, second = hash_code("012345"), hash_code("012345")
    assert first != second  # per-row salt
    assert "012345" not in first
    assert code_matches("012345", first) and code_matches("012345", second)
    assert not code_matches("012346", first)


@pytest.mark.parametrize("stored", ["", "plain", "md5$a$b$c$d$e", "scrypt$x$8$1$AA==$AA=="])
def test_unreadable_hashes_never_match(stored: str) -> None:
    assert not code_matches("123456", stored)


@pytest.mark.parametrize(
    ("raw", "expected"), [("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456")]
)
def test_codes_are_read_with_separators(raw: str, expected: str) -> None:
    assert normalise_code(raw) == expected


@pytest.mark.parametrize("raw", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"])
def test_malformed_codes_are_refused(raw: str) -> None:
    with pytest.raises(MalformedCode, match="6 digits"):
        normalise_code(raw)


def test_message_is_a_copy_code_authentication_template() -> None:
    metadata = message_metadata("042042", expires_at=NOW)
    template = TemplateMessage.model_validate(metadata["template"])
    assert template.name == "verification_code"
    assert template.language.code == "en_US"
    body, button = template.components
    assert (body.type, body.parameters[0].text) == ("body", "042042")  # type: ignore[union-attr]
    assert (button.sub_type, button.index) == ("url", "0")
    assert button.parameters[0].text == "042042"  # type: ignore[union-attr]
    assert metadata["category"] == "authentication"
    assert metadata["verification"] == {"expires_at": "2026-05-01T09:00:00+00:00"}
    assert "042042" not in message_content()


POLICY = VerificationPolicy()


@pytest.mark.parametrize(
    ("ago_seconds", "retry_in_seconds"),
    [
        ([], None),
        ([61], None),
        ([30], 30),
        ([0], 60),
        ([3600 + 1, 600, 500, 400, 300], None),  # the oldest left the hour
        ([3000, 2500, 2000, 1500, 1000], 600),  # five in the hour: wait for the oldest
    ],
)
def test_resend_throttle(ago_seconds: list[int], retry_in_seconds: int | None) -> None:
    sends = [NOW - timedelta(seconds=s) for s in ago_seconds]
    if retry_in_seconds is None:
        POLICY.check_resend(sends, now=NOW)
        return
    with pytest.raises(ResendThrottled) as raised:
        POLICY.check_resend(sends, now=NOW)
    assert raised.value.retry_at == NOW + timedelta(seconds=retry_in_seconds)
    assert raised.value.as_outcome()["retry_at"] == raised.value.retry_at.isoformat()


def test_recent_sends_keeps_only_the_window() -> None:
    sends = [NOW - timedelta(hours=2), NOW - timedelta(minutes=59), NOW - timedelta(minutes=1)]
    assert POLICY.recent_sends(sends, now=NOW) == sends[1:]
