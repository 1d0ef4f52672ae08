"""The Prefect API as the topology needs it, over plain HTTP (no Prefect import: fast).

Every check fails with a ``SetupError`` whose message is one line naming what to fix.
"""

from __future__ import annotations

import os

import httpx

from tripcast.topology.errors import SetupError

POOL_NAME = "tripcast"
API_TIMEOUT_SECONDS = 5.0


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


def check_api(url: str) -> None:
    """The server answers its health check, else one line saying so."""
    try:
        response = httpx.get(f"{url}/health", timeout=API_TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise SetupError(
            f"PREFECT_API_URL {url} does not answer ({type(error).__name__}: {error}): "
            "start the Prefect server or fix PREFECT_API_URL"
        ) from None
    if response.status_code != 200:
        raise SetupError(
            f"PREFECT_API_URL {url} answered {response.status_code} to /health: "
            "is it a Prefect server's API URL (ending in /api)?"
        )


def pool_exists(url: str, name: str = POOL_NAME) -> bool:
    response = httpx.get(f"{url}/work_pools/{name}", timeout=API_TIMEOUT_SECONDS)
    if response.status_code == 404:
        return False
    response.raise_for_status()
    return True


def check_pool(url: str, name: str = POOL_NAME) -> None:
    if not pool_exists(url, name):
        raise SetupError(
            f"the work pool {name!r} does not exist on {url}: run `tripcast deploy` "
            "(it creates the pool and applies prefect.yaml)"
        )
