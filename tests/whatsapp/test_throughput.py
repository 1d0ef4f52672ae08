from __future__ import annotations

import json

import pytest

from tripcast.whatsapp.fake import FakeCloudApi, running_fake_cloud_api
from tripcast.whatsapp.phone import normalize_phone
from tripcast.whatsapp.throughput import bench_config, main, measure_client_throughput, recipient

pytestmark = pytest.mark.integration


def test_bench_recipients_are_valid_and_distinct() -> None:
    numbers = [recipient(index) for index in (0, 1, 9_999_999, 10_000_000 - 1)]
    assert all(normalize_phone(number) == number for number in numbers)
    assert len({recipient(index) for index in range(1000)}) == 1000


def test_main_prints_one_json_line_per_run(
    fake: FakeCloudApi, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.set_config(throughput_per_second=None, pair_rate_window_seconds=None)
    fake.set_config(enforce_service_window=False)
    argv = ["--base-url", fake.base_url, "--requests", "40", "--concurrency", "4,8"]
    main([*argv, "--transport", "aiohttp", "--json"])
    runs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(run["concurrency"], run["ok"], run["errors"]) for run in runs] == [
        (4, 40, {}),
        (8, 40, {}),
    ]
    assert fake.state()["accepted"] == 40 + 4 + 40 + 8  # timed sends plus warm-up rounds


@pytest.mark.anyio
async def test_measurement_at_bench_settings_completes_every_send() -> None:
    # A smoke run of the benchmark's own set-up; the throughput figure itself is
    # measured by `python -m tripcast.whatsapp.throughput` and kept in BENCHMARKS.md.
    with running_fake_cloud_api(bench_config(0.1), in_subprocess=True) as fake:
        figures = await measure_client_throughput(
            base_url=fake.base_url, requests=512, concurrency=256, transport="aiohttp"
        )
    assert figures["errors"] == {}
    assert figures["ok"] == 512
    assert figures["latency_p50_ms"] >= 100  # the fake's latency was really applied
