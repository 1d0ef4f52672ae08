"""How many sends per second ``WhatsAppClient`` sustains against a slow API.

``python -m tripcast.whatsapp.throughput`` starts the fake Cloud API in a subprocess
(100 ms latency, Meta's limits lifted) and measures each transport at each
concurrency; ``--base-url`` measures against a running fake instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections import Counter
from typing import Any

from tripcast.whatsapp.api_errors import WhatsAppError
from tripcast.whatsapp.client import WhatsAppClient
from tripcast.whatsapp.fake import FakeCloudApiConfig, running_fake_cloud_api
from tripcast.whatsapp.transport import TransportName

FAKE_DEFAULTS = FakeCloudApiConfig()


def recipient(index: int) -> str:
    """Distinct valid Portuguese mobile numbers, so no pair limit can be involved."""
    return f"35191{index % 10_000_000:07d}"


async def measure_client_throughput(
    *,
    base_url: str,
    requests: int,
    concurrency: int,
    transport: TransportName = "aiohttp",
    clients: int = 1,
    phone_number_id: str = FAKE_DEFAULTS.phone_number_id,
    access_token: str = FAKE_DEFAULTS.access_token,
    api_version: str = "v23.0",
    max_seconds: float = 5.0,
) -> dict[str, Any]:
    """Send ``requests`` texts with ``concurrency`` in flight over ``clients`` pools.

    A warm-up round opens the connections first. Runs are cut at ``max_seconds``:
    the rate is then what completed in that time.
    """
    pool = _client_pool(
        base_url=base_url,
        api_version=api_version,
        phone_number_id=phone_number_id,
        access_token=access_token,
        transport=transport,
        connections=-(-concurrency // clients),
        clients=clients,
    )
    try:
        warm_up = min(concurrency, requests)
        await _run(pool, requests=warm_up, concurrency=concurrency, offset=0, seconds=max_seconds)
        started = time.perf_counter()
        latencies, errors = await _run(
            pool, requests=requests, concurrency=concurrency, offset=warm_up, seconds=max_seconds
        )
        elapsed = time.perf_counter() - started
    finally:
        for client in pool:
            await client.aclose()
    return _figures(transport, clients, concurrency, latencies, errors, elapsed)


def _client_pool(*, clients: int, connections: int, **options: Any) -> list[WhatsAppClient]:
    return [
        WhatsAppClient(max_connections=connections, timeout=30.0, **options) for _ in range(clients)
    ]


async def _run(
    pool: list[WhatsAppClient],
    *,
    requests: int,
    concurrency: int,
    offset: int,
    seconds: float,
) -> tuple[list[float], Counter[str]]:
    """Sends from ``concurrency`` workers; whatever is unfinished after ``seconds`` is
    cancelled, so a collapsing transport costs the bench ``seconds``, not minutes."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    next_index = iter(range(requests))

    async def worker(slot: int) -> None:
        client = pool[slot % len(pool)]
        for index in next_index:
            began = time.perf_counter()
            try:
                await client.send_text(recipient(offset + index), "Your trip starts tomorrow")
            except WhatsAppError as error:
                errors[error.family] += 1
                continue
            latencies.append(time.perf_counter() - began)

    workers = [asyncio.create_task(worker(slot)) for slot in range(concurrency)]
    _, unfinished = await asyncio.wait(workers, timeout=seconds)
    for task in unfinished:
        task.cancel()
    await asyncio.gather(*unfinished, return_exceptions=True)
    return latencies, errors


def _figures(
    transport: str,
    clients: int,
    concurrency: int,
    latencies: list[float],
    errors: Counter[str],
    elapsed: float,
) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "transport": transport,
        "clients": clients,
        "concurrency": concurrency,
        "ok": len(ordered),
        "errors": dict(errors),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(ordered) / elapsed, 1) if elapsed else 0.0,
        "latency_p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "latency_p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1) if ordered else None,
    }


def bench_config(latency_seconds: float) -> FakeCloudApiConfig:
    """The fake as the bench needs it: Meta's latency, none of its limits."""
    return FakeCloudApiConfig(
        latency_seconds=latency_seconds,
        throughput_per_second=None,
        pair_rate_window_seconds=None,
        enforce_service_window=False,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="WhatsAppClient throughput against the fake")
    parser.add_argument("--base-url", help="a running fake (default: start one)")
    parser.add_argument("--requests", type=int, default=3000, help="timed sends per run")
    parser.add_argument("--concurrency", default="64,128,256", help="comma-separated")
    parser.add_argument("--transport", default="httpx-default,aiohttp", help="comma-separated")
    parser.add_argument("--clients", default="1", help="pooled clients, comma-separated")
    parser.add_argument("--latency", type=float, default=0.1, help="fake's latency (s)")
    parser.add_argument("--max-seconds", type=float, default=5.0, help="per run")
    parser.add_argument("--json", action="store_true", help="print JSON lines only")
    args = parser.parse_args(argv)
    runs = [
        (transport, int(clients), int(concurrency))
        for transport in args.transport.split(",")
        for clients in args.clients.split(",")
        for concurrency in args.concurrency.split(",")
    ]
    if args.base_url:
        _measure_all(args, args.base_url, runs)
        return
    with running_fake_cloud_api(bench_config(args.latency), in_subprocess=True) as fake:
        _measure_all(args, fake.base_url, runs)


def _measure_all(args: argparse.Namespace, base_url: str, runs: list[tuple[str, int, int]]) -> None:
    if not args.json:
        print(
            f"{'transport':<14} {'clients':>7} {'in flight':>9} {'req/s':>8} {'p50 ms':>7} "
            f"{'p99 ms':>7}  errors"
        )
    for transport, clients, concurrency in runs:
        figures = asyncio.run(
            measure_client_throughput(
                base_url=base_url,
                requests=args.requests,
                concurrency=concurrency,
                transport=transport,  # type: ignore[arg-type]
                clients=clients,
                max_seconds=args.max_seconds,
            )
        )
        if args.json:
            print(json.dumps(figures), flush=True)
            continue
        print(
            f"{transport:<14} {clients:>7} {concurrency:>9} {figures['requests_per_second']:>8} "
            f"{figures['latency_p50_ms']!s:>7} {figures['latency_p99_ms']!s:>7}  "
            f"{figures['errors'] or '-'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
