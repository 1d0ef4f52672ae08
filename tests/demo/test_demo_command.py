"""``tripcast demo`` end to end, on a fresh home, as a user runs it (smaller world)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tripcast.demo.senders import PT_DISPLAY, US_DISPLAY


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(
    bool(os.environ.get("TRIPCAST_TEST_DATABASE_URL")),
    reason="the demo always runs on its own embedded server",
)
def test_demo_produces_every_kind_of_outcome(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIPCAST_", "PREFECT_"))}
    env["TRIPCAST_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tripcast.cli",
            "demo",
            "--travellers",
            "120",
            "--step-hours",
            "3",
            "--json",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    outbound = summary["Outbound messages by status"]
    for status in ("sent", "delivered", "read", "failed"):
        assert outbound[status] > 0, status
    assert summary["Inbound replies"]["received"] > 0
    skips = summary["Notifications skipped, by reason"]
    assert skips["opted_out"] > 0 and skips["not_opted_in"] > 0
    assert summary["Deferred for quiet hours"]["deferrals"] > 0
    assert summary["Failures by Meta code / reason"]["131026"] > 0
    assert summary["Consent changes (STOP / START)"]["opted_out"] > 0
    assert summary["Jobs by status"]["completed"] > 0
    read = summary["Read receipts for answered replies"]
    assert read["marked read"] > 0
    costs = summary["Costs (Meta's pricing, sample rate card)"]
    assert costs["utility, billable"] > 0
    amount, currency = costs["estimated cost (sample rate card)"].split()
    assert float(amount) > 0 and currency == "USD"
    # Messages of the template paused mid-day waited, then left once it was reinstated.
    paused = summary["Paused template (trip_reminder)"]
    assert paused["waited"] > 0
    assert paused.get("then read", 0) + paused.get("then delivered", 0) > 0
    # Every traveller who got a message or wrote has a BSUID; the one with a username
    # (no number in Meta's webhooks) said STOP by BSUID only, and is opted out.
    identities = summary["Business-scoped user IDs"]
    assert identities["with a BSUID"] > 0
    assert (identities["with a username"], identities["username, opted out"]) == (1, 1)
    # Two numbers: the first campaign wave left from both; after Meta flagged the PT number
    # (quality RED) its share of the second wave waited while the US number sent its own.
    numbers = summary["Two numbers, PT flagged RED at 18:00 (marketing)"]
    pt, us = f"PT {PT_DISPLAY}", f"US {US_DISPLAY}"
    assert numbers[f"first wave: sent from {pt}"] > 0
    assert numbers[f"first wave: sent from {us}"] > 0
    assert numbers["second wave, PT RED: held, PT travellers"] > 0
    assert f"second wave, PT RED: sent from {pt}" not in numbers
    assert numbers[f"second wave, PT RED: sent from {us}"] > 0
    assert numbers[f"{pt} now"] == "quality RED, active"
    # Re-runnable: a second run starts from a fresh database, so the seeded world's
    # decisions come out the same (send timings, and so pair-rate refusals, may differ).
    again = subprocess.run(
        done.args,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode == 0
    second = json.loads(again.stdout[again.stdout.index("{") :])
    for section in (
        "Notifications skipped, by reason",
        "Consent changes (STOP / START)",
        "Inbound replies",
    ):
        assert second[section] == summary[section]
