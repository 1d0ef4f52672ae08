"""Each benchmark at its small size: well-formed results, no timing assertions."""

from __future__ import annotations

import pytest

from tripcast.bench import dispatch, latency, memory, planning, scale, senders, webhook
from tripcast.bench.database import ScratchServer
from tripcast.bench.results import BenchResult

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def well_formed(result: BenchResult) -> None:
    assert result.figures and result.setup
    for figure in result.figures:
        assert figure.value >= 0 and figure.unit
        assert figure.reference is None or figure.reference >= 0


def test_dispatch(scratch: ScratchServer) -> None:
    result = dispatch.run(scratch, size="small")
    well_formed(result)
    d, plan = result.details, dispatch.SIZES["small"]
    assert d["throughput"]["sent"] == d["throughput"]["logged"] == plan.backlog
    assert d["throughput"]["outcomes"] == {"sent": plan.backlog}
    # Two followers in processes of their own shared one backlog, each message sent once.
    two = d["followers"]
    assert two["sent"] == two["logged"] == two["accepted_distinct"] == plan.backlog
    assert two["exactly_once"] and d["throughput"]["exactly_once"]
    assert sum(two["claimed_each"]) == plan.backlog  # one may take a small backlog alone
    assert len([f for f in result.figures if f.name.startswith("throughput")]) == 2
    for key in ("rate", "rate_experiment"):
        assert d[key]["accepted"] == d[key]["sent"] == plan.rate_messages
        assert d[key]["max_in_1s"] <= 80
    assert d["seed_design"]["sent"] == plan.baseline_messages
    assert d["ceiling_before"]["ok"] == plan.ceiling_requests


def test_senders(scratch: ScratchServer) -> None:
    result = senders.run(scratch, size="small")
    well_formed(result)
    d = result.details
    assert [s["accepted"] for s in d["per_sender"]] == [60, 120, 240]
    assert d["dispatch"]["sent"] == d["dispatch"]["logged"] == 420
    # Each number on its own schedule: unpaced (or at the 80/s default) the 20/s and
    # 40/s numbers would send their whole backlog within a second or two.
    for sender in d["per_sender"]:
        assert sender["max_in_1s"] < 1.5 * sender["rate"]
    assert d["aggregate"]["accepted"] == 420
    assert d["aggregate"]["rate"] == 140


def test_planning(scratch: ScratchServer) -> None:
    result = planning.run(scratch, size="small")
    well_formed(result)
    trips = planning.SIZES["small"]
    every = result.details["all_due"]
    assert every["plan"]["planned"] == every["jobs"] == every["ceiling_rows"] == trips * 5
    for key in ("day", "all_due"):
        assert result.details[key]["rerun"]["planned"] == 0
    assert result.details["day"]["plan"]["planned"] == result.details["day"]["jobs"]


def test_webhook(scratch: ScratchServer) -> None:
    result = webhook.run(scratch, size="small")
    well_formed(result)
    size = webhook.SIZES["small"]
    latency = result.details["latency"]
    for side in ("ceiling", "receiver"):
        assert latency[side]["statuses"] == {"200": latency[side]["measured"]}
    assert latency["stored"] > 0
    ingest = result.details["ingest"]
    assert ingest["receipts"] == ingest["matched"] == 2 * size.messages
    assert ingest["read"] == size.messages == ingest["delivery_logs"]


def test_scale(scratch: ScratchServer) -> None:
    result = scale.run(scratch, size="small")
    well_formed(result)
    size = scale.SIZES["small"]
    assert result.details["rows"] == [size.small_rows, size.large_rows]
    (plan,) = result.excerpts.values()
    assert scale.INDEX in plan and "Buffers:" in plan
    assert len(result.details["claim_ms_large"]) == scale.REPEATS


def test_memory(scratch: ScratchServer) -> None:
    result = memory.run(scratch, size="small")
    well_formed(result)
    assert result.details["sent"] == memory.SIZES["small"]
    assert result.details["backlog"]["peak_rss_kib"] > 0


def test_latency(scratch: ScratchServer) -> None:
    result = latency.run(scratch, size="small")
    well_formed(result)
    probes = latency.SIZES["small"].probes
    cases = ("follower idle", "follower backlog", "sweep-only idle", "sweep-only backlog")
    assert sorted(result.details) == sorted(cases)
    assert all(len(result.details[case]) == probes for case in cases), result.notes
    assert all(value > 0 for case in cases for value in result.details[case])
