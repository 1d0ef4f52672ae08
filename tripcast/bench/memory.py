"""Memory: the peak resident set of one minute sweep dispatching a 100K backlog.

The sweep is ``tripcast sweep`` as an operator runs it (the minute-sweep flow: plan,
execute due jobs, dispatch task run after task run of up to 20 batches), in a process of
its own, against the bench's scratch database and the fake Cloud API (100 ms, Meta's
limits lifted) with ``TRIPCAST_SEND_RATE=10000``, the highest the settings allow, so the
rate does not stretch the run. Prefect runs on a temporary local API in a fresh home.

The reference is the same sweep over an empty queue, measured in the same run: what
Python, Prefect, SQLAlchemy and the HTTP stack cost before a single message. The small
size skips it (a sweep costs some 20 s of Prefect start-up).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from sqlalchemy.engine import Engine

from tripcast.bench.database import ScratchServer
from tripcast.bench.dispatch_measure import seed
from tripcast.bench.results import BenchResult, Figure
from tripcast.bench.sweep_child import MARKER
from tripcast.whatsapp.fake import FakeCloudApi, running_fake_cloud_api
from tripcast.whatsapp.throughput import bench_config

SIZES = {"small": 300, "full": 100_000}
PEAK_MIB = 300.0
SEND_RATE = "10000"


def sweep_in_child(engine: Engine, fake: FakeCloudApi) -> dict[str, Any]:
    """Run one sweep in a child process; its figures (peak RSS in KiB, exit code)."""
    with tempfile.TemporaryDirectory(prefix="tc-bench-sweep-") as home:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        environment |= {
            "TRIPCAST_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "TRIPCAST_HOME": home,
            "PREFECT_HOME": os.path.join(home, "prefect"),
            "TRIPCAST_WHATSAPP_API_URL": fake.base_url,
            "TRIPCAST_WHATSAPP_PHONE_NUMBER_ID": fake.phone_number_id,
            "TRIPCAST_WHATSAPP_ACCESS_TOKEN": fake.access_token,
            "TRIPCAST_SEND_RATE": SEND_RATE,
        }
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tripcast.bench.sweep_child"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        seconds = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip()[-800:]
        raise RuntimeError(f"the sweep failed (exit {done.returncode}): {tail}")
    figures = dict(json.loads(lines[-1][len(MARKER) :]))
    if figures["exit"] != 0:
        raise RuntimeError(f"the sweep exited with {figures['exit']}: {done.stderr[-800:]}")
    return figures | {"seconds": round(seconds, 1)}


def _sent(engine: Engine) -> int:
    with engine.connect() as connection:
        query = "SELECT count(*) FROM whatsapp_messages WHERE status = 'sent'"
        return int(connection.exec_driver_sql(query).scalar_one())


def run(server: ScratchServer, *, size: str) -> BenchResult:
    backlog = SIZES[size]
    result = BenchResult("memory", size)
    with (
        running_fake_cloud_api(bench_config(0.1), in_subprocess=True) as fake,
        server.fresh() as engine,
    ):
        empty = sweep_in_child(engine, fake) if size == "full" else None
        seed(engine, backlog, offset=0)
        full = sweep_in_child(engine, fake)
        sent = _sent(engine)
    result.details = {"empty": empty, "backlog": full, "messages": backlog, "sent": sent}
    _describe(result)
    _figures(result)
    return result


def _describe(result: BenchResult) -> None:
    d = result.details
    rate = d["sent"] / d["backlog"]["seconds"] if d["backlog"]["seconds"] else 0.0
    result.setup = [
        f"`tripcast sweep` in its own process over a backlog of {d['messages']:,} pending "
        "texts (one traveller each), default batch size, `TRIPCAST_SEND_RATE=10000`, "
        "against the fake Cloud API (100 ms); its peak RSS is `VmHWM` of that process.",
        f"The sweep sent {d['sent']:,} messages in {d['backlog']['seconds']:.0f} s, Prefect "
        f"start-up included ({rate:,.0f} msgs/s: batches of 500, up to 20 per task run).",
        "Reference: the same sweep over an empty queue, in the same run. The temporary "
        "Prefect API server runs in a process of its own and is not counted.",
    ]


def _figures(result: BenchResult) -> None:
    d = result.details
    peak = d["backlog"]["peak_rss_kib"] / 1024
    empty = d["empty"]["peak_rss_kib"] / 1024 if d["empty"] else None
    result.add(
        Figure(
            f"peak RSS of a sweep over {d['messages']:,} messages",
            round(peak, 1),
            "MiB",
            reference=round(empty, 1) if empty else None,
            reference_label="the same sweep, empty queue",
            target=f"≤ {PEAK_MIB:g} MiB",
            met=d["sent"] == d["messages"] and peak <= PEAK_MIB,
        )
    )
