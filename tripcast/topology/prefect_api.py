"""The Prefect API as the topology needs it, over plain HTTP (no Prefect import: fast).

Which server to ask is ``tripcast.deployments.api_url``'s to say.

Every check fails with a ``SetupError`` whose message is one line naming what to fix.
"""

from __future__ import annotations

import httpx

from tripcast.topology.setup_error import SetupError

POOL_NAME = "tripcast"
API_TIMEOUT_SECONDS = 5.0


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
