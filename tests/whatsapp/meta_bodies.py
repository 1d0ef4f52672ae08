"""Error bodies shaped like the Cloud API's, for table-driven tests."""

from __future__ import annotations

import json
from typing import Any


def meta_error(code: int, message: str | None = None, details: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": message or f"(#{code}) Some title",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details or "details"},
            "fbtrace_id": "AbCdEf123",
        }
    }


def meta_error_bytes(code: int, **kwargs: Any) -> bytes:
    return json.dumps(meta_error(code, **kwargs)).encode()
