"""Phone numbers in the form WhatsApp uses: E.164 digits without the ``+``.

WhatsApp reports recipients (``wa_id``, a status's ``recipient_id``, an inbound
message's ``from``) as bare E.164 digits, so every number tripcast stores or sends is
normalised to that form first; inbound traffic then matches an account directly.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

from tripcast.exceptions import EXIT_CONFIG, TripcastError

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country calling code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country calling code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length for its country",
}
_SEPARATORS = re.compile(r"[\s().\-/]")
# Meta's business-scoped user ID: a two-letter country code, a period, then up to 128
# letters and digits ("US.13491208655302741918"); a parent BSUID has "ENT." after the
# country ("US.ENT.11815799212886844830").
_BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


def is_bsuid(value: str) -> bool:
    """Whether ``value`` is a business-scoped user ID rather than a phone number."""
    return bool(_BSUID.fullmatch(value))


class InvalidPhoneNumber(TripcastError, ValueError):
    """A phone number that cannot be a WhatsApp recipient; ``raw`` keeps the input."""

    exit_code = EXIT_CONFIG

    def __init__(self, raw: str, reason: str) -> None:
        # The message masks the digits: exception texts end up in logs.
        super().__init__(f"invalid phone number {_mask_raw(raw)!r}: {reason}")
        self.raw = raw
        self.reason = reason


def normalize_phone(raw: str, *, default_region: str | None = None) -> str:
    """Return ``raw`` as E.164 digits without ``+`` (``"351912345678"``).

    Accepts ``+351 912 345 678``, ``00351912345678``, bare international digits
    (``351912345678``, WhatsApp's own form) and, with ``default_region``, national
    notation (``912 345 678`` with ``"PT"``). Raises ``InvalidPhoneNumber``.
    """
    if not isinstance(raw, str):
        raise InvalidPhoneNumber(repr(raw), f"expected a string, got {type(raw).__name__}")
    return _normalize_cached(raw.strip(), default_region.upper() if default_region else None)


@lru_cache(maxsize=65_536)
def _normalize_cached(raw: str, default_region: str | None) -> str:
    # Cached: a dispatch batch sends to the same travellers again and again, and
    # parsing costs tens of microseconds, which matters at 1,000 sends/s.
    if not raw:
        raise InvalidPhoneNumber(raw, "empty")
    number = _parse(raw, default_region)
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        raise InvalidPhoneNumber(raw, _POSSIBLE_REASONS.get(possible, "impossible number"))
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_country_code(number.country_code or 0)
        raise InvalidPhoneNumber(raw, f"not a valid number for country {region}")
    return f"{number.country_code}{number.national_number}"


def _parse(raw: str, default_region: str | None) -> phonenumbers.PhoneNumber:
    compact = _SEPARATORS.sub("", raw)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not compact.startswith("+") and default_region is None:
        # Without a region, bare digits are international (WhatsApp's wa_id form).
        compact = "+" + compact
    try:
        return phonenumbers.parse(compact, default_region)
    except NumberParseException as error:
        raise InvalidPhoneNumber(raw, _PARSE_REASONS.get(error.error_type, str(error))) from None


def mask_phone(digits: str) -> str:
    """Mask the middle of a number for logs: ``351912345678`` -> ``3519*****678``."""
    if len(digits) <= 7:
        return "*" * max(len(digits) - 2, 0) + digits[-2:]
    return digits[:4] + "*" * (len(digits) - 7) + digits[-3:]


def _mask_raw(raw: str) -> str:
    digit_count = sum(char.isdigit() for char in raw)
    if digit_count < 7:
        return raw
    return mask_phone(raw)


def country_code_of(digits: str) -> str:
    """ISO 3166 region of an E.164 number (``"351912345678"`` -> ``"PT"``)."""
    number = _parse(digits if digits.startswith("+") else "+" + digits, None)
    region = phonenumbers.region_code_for_number(number)
    if region is None or region == "ZZ":
        raise InvalidPhoneNumber(digits, "no country owns this number")
    return str(region)
