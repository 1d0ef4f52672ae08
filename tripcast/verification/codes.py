"""One-time codes: generation, salted hashing, checking, and the message that carries one.

Codes are six digits from ``secrets``. Only a salted scrypt hash is stored
(``scrypt$n$r$p$salt$hash``, base64 parts), so a database dump does not hand out live
codes; scrypt rather than a plain hash because six digits are only a million guesses.
Parameters travel with the hash so they can be raised later without a migration.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Any

from tripcast.verification.refusals import MalformedCode

CODE_DIGITS = 6
TEMPLATE_NAME = "verification_code"
TEMPLATE_LANGUAGE = "en_US"
CATEGORY = "authentication"
REDACTED = "******"
# scrypt cost: ~16 MiB and tens of milliseconds per check, fine for one check per request.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SALT_BYTES = 16
_SEPARATORS = re.compile(r"[\s-]")


def new_code() -> str:
    """A uniformly random six-digit code (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise_code(raw: str) -> str:
    """``"123 456"`` / ``"123-456"`` → ``"123456"``; anything else not six digits is refused."""
    code = _SEPARATORS.sub("", raw or "")
    if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        raise MalformedCode(f"the code is {CODE_DIGITS} digits, as in the WhatsApp message")
    return code


def hash_code(code: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(code, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    parts = (str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(digest))
    return "$".join(("scrypt", *parts))


def code_matches(code: str, stored: str) -> bool:
    """Whether ``code`` hashes to ``stored``; constant-time compare, False if unreadable."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(code, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def template_components(code: str) -> list[dict[str, Any]]:
    """Meta's copy-code authentication template: the code in the body and in the button."""
    parameter = [{"type": "text", "text": code}]
    return [
        {"type": "body", "parameters": parameter},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": parameter},
    ]


def message_metadata(code: str, *, expires_at: datetime) -> dict[str, Any]:
    """``whatsapp_messages.metadata`` of a code message; ``expires_at`` lets dispatch drop a
    message whose code is already dead instead of sending it."""
    return {
        "template": {
            "name": TEMPLATE_NAME,
            "language": {"code": TEMPLATE_LANGUAGE},
            "components": template_components(code),
        },
        "category": CATEGORY,
        "verification": {"expires_at": expires_at.isoformat()},
    }


def message_content() -> str:
    """The readable rendering stored in ``content``: never the code itself."""
    return f"[{TEMPLATE_NAME}] {REDACTED}"


def _scrypt(code: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(code.encode(), salt=salt, n=n, r=r, p=p, dklen=32)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
