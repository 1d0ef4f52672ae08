"""Which checkout the deployments run from.

``prefect.yaml``'s pull step changes into ``$TRIPCAST_CHECKOUT_DIR`` before a flow run
imports its entrypoint. If that directory is another checkout than the one tripcast is
installed from, a run would mix two versions of the code, so workers refuse to start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import tripcast
from tripcast.topology.setup_error import SetupError

CHECKOUT_ENV = "TRIPCAST_CHECKOUT_DIR"


def installed_checkout() -> Path:
    """The checkout the running tripcast is imported from (the one holding prefect.yaml)."""
    root = Path(tripcast.__file__).resolve().parent.parent
    if not (root / "prefect.yaml").is_file():
        raise SetupError(
            f"tripcast is imported from {root}, which is not a checkout with prefect.yaml: "
            "install it from a checkout (`make .venv/bin/.installed` or `pip install -e .`)"
        )
    return root


def worker_checkout(environ: Mapping[str, str] | None = None) -> Path:
    """The directory flow runs will work in: ``$TRIPCAST_CHECKOUT_DIR`` or this checkout.

    A value naming another checkout than the installed one is an error.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    installed = installed_checkout()
    given = (env.get(CHECKOUT_ENV) or "").strip()
    if not given:
        return installed
    chosen = Path(given).expanduser().resolve()
    if chosen != installed:
        raise SetupError(
            f"{CHECKOUT_ENV}={given} is not the checkout tripcast runs from ({installed}): "
            f"unset {CHECKOUT_ENV} or start the worker from that checkout's environment"
        )
    return installed
