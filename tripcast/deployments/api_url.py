"""Which Prefect server tripcast talks to: ``PREFECT_API_URL``, else the active profile's.

Here rather than in ``tripcast.topology``, whose checks speak plain HTTP: reading a
profile takes Prefect's settings, and Prefect is imported in the orchestration layer only.
"""

from __future__ import annotations

import os

from tripcast.topology.setup_error import SetupError


def configured_api_url() -> str | None:
    """``PREFECT_API_URL`` from the environment or Prefect's active profile, if any."""
    url = os.environ.get("PREFECT_API_URL", "").strip()
    if url:
        return url.rstrip("/")
    from prefect.settings import get_current_settings

    profile_url = get_current_settings().api.url
    return profile_url.rstrip("/") if profile_url else None


def require_api_url() -> str:
    url = configured_api_url()
    if url is None:
        raise SetupError(
            "PREFECT_API_URL is not set: start a Prefect server (`tripcast stack up` or "
            "`prefect server start`) and export PREFECT_API_URL=http://HOST:4200/api"
        )
    return url
