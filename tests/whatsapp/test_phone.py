from __future__ import annotations

import pytest

from tripcast.whatsapp.phone import InvalidPhoneNumber, country_code_of, mask_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+351 912 345 678", None, "351912345678"),
        ("+351-912-345-678", None, "351912345678"),
        ("00351 912 345 678", None, "351912345678"),
        ("351912345678", None, "351912345678"),
        ("  +351912345678 ", None, "351912345678"),
        ("912 345 678", "PT", "351912345678"),
        ("912 345 678", "pt", "351912345678"),
        ("351912345678", "PT", "351912345678"),
        ("+1 (415) 555-2671", None, "14155552671"),
        ("(415) 555.2671", "US", "14155552671"),
        ("+49 1512 3456789", None, "4915123456789"),
        ("07911 123456", "GB", "447911123456"),
    ],
)
def test_normalize_phone_accepts_common_notations(
    raw: str, region: str | None, expected: str
) -> None:
    assert normalize_phone(raw, default_region=region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("", None, "empty"),
        ("   ", None, "empty"),
        ("hello", None, "not a phone number"),
        ("+999 123456789", None, "unknown country calling code"),
        ("+351 912", None, "too short"),
        ("+351 912 345 678 123 456", None, "too long"),
        ("+351 212 345 67", None, "too short"),
        ("+351 812 345 678", None, "not a valid number for country PT"),
        ("912 345 678", None, "not a valid number"),  # no region: read as +912...
    ],
)
def test_normalize_phone_rejects_invalid_numbers_with_the_reason(
    raw: str, region: str | None, reason: str
) -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalize_phone(raw, default_region=region)
    assert reason in str(caught.value)
    assert caught.value.raw == raw.strip()
    assert isinstance(caught.value, ValueError)


def test_invalid_phone_message_masks_the_digits() -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalize_phone("+351 812 345 678")
    assert "812 345" not in str(caught.value)
    assert "678" in str(caught.value)


def test_normalize_phone_rejects_non_strings() -> None:
    with pytest.raises(InvalidPhoneNumber, match="expected a string"):
        normalize_phone(351912345678)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("digits", "masked"),
    [("351912345678", "3519*****678"), ("14155552671", "1415****671"), ("1234567", "*****67")],
)
def test_mask_phone_keeps_only_the_ends(digits: str, masked: str) -> None:
    assert mask_phone(digits) == masked


@pytest.mark.parametrize(
    ("digits", "region"),
    [
        ("351912345678", "PT"),
        ("14155552671", "US"),
        ("4915123456789", "DE"),
        ("+34612345678", "ES"),
    ],
)
def test_country_code_of(digits: str, region: str) -> None:
    assert country_code_of(digits) == region


def test_country_code_of_unknown_calling_code() -> None:
    with pytest.raises(InvalidPhoneNumber):
        country_code_of("999123456789")
