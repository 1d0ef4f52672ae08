"""``tripcast deploy``: the work pool, the deployments of prefect.yaml and the automation
that crashes dead runs, applied to the Prefect server at ``PREFECT_API_URL``; idempotent."""

from __future__ import annotations

import argparse
from typing import Any

from tripcast.commands.runtime import migrated_engine, prepare_prefect_home


def _deploy(args: argparse.Namespace) -> int:
    from tripcast.deployments.api_url import require_api_url
    from tripcast.topology.checkout import installed_checkout
    from tripcast.topology.prefect_api import POOL_NAME, check_api
    from tripcast.topology.setup import deploy_all, ensure_pool, heartbeat_seconds

    api_url = require_api_url()
    check_api(api_url)
    migrated_engine()
    checkout = installed_checkout()
    heartbeat = heartbeat_seconds()
    prepare_prefect_home()
    print(f"work pool {POOL_NAME}: {ensure_pool(api_url=api_url, checkout=checkout)}")
    names = deploy_all(api_url=api_url, checkout=checkout)
    print(f"deployments applied from {checkout / 'prefect.yaml'}: {len(names)}")
    from tripcast.deployments.zombies import AUTOMATION_NAME, ensure_zombie_automation

    outcome = ensure_zombie_automation(heartbeat_seconds=heartbeat)
    print(f"automation {AUTOMATION_NAME!r}: {outcome}")
    return 0


def register(commands: Any) -> None:
    deploy = commands.add_parser(
        "deploy",
        help="create the tripcast work pool, apply prefect.yaml, arm dead-run detection",
    )
    deploy.set_defaults(handler=_deploy)
