"""A paced webhook load generator, run in its own process: ``python -m tripcast.bench.loadgen``.

Reads its settings as one JSON line on stdin (they hold the app secret), signs every
body up front, then POSTs them open-loop at a fixed rate: request ``i`` is due at
``start + i / rate`` whatever happened to the earlier ones. Latency is measured from
that due time to the answer, so a stalled receiver shows in the figures instead of
silently slowing the load (no coordinated omission). Prints one JSON line of results.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from tripcast.bench.results import percentile
from tripcast.whatsapp.webhook import SIGNATURE_HEADER, sign


@dataclass(frozen=True)
class LoadSettings:
    url: str
    app_secret: str
    rate: float  # deliveries per second
    seconds: float  # measured part
    warmup_seconds: float = 1.0
    connections: int = 64


def delivery(index: int, *, run: str) -> bytes:
    """One status receipt, shaped like Meta's, with a wamid no message has."""
    status = {
        "id": f"wamid.load.{run}.{index:09d}",
        "status": "delivered",
        "timestamp": str(int(time.time())),
        "recipient_id": f"35195{index % 10_000_000:07d}",
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "100000000000001"},
        "statuses": [status],
    }
    change = {"field": "messages", "value": value}
    body = {"object": "whatsapp_business_account", "entry": [{"id": "1024", "changes": [change]}]}
    return json.dumps(body).encode()


async def generate(settings: LoadSettings) -> dict[str, Any]:
    run = f"{time.time_ns():x}"
    total = int((settings.warmup_seconds + settings.seconds) * settings.rate)
    warmup = int(settings.warmup_seconds * settings.rate)
    bodies = [delivery(i, run=run) for i in range(total)]
    signatures = [sign(settings.app_secret, body) for body in bodies]
    results: list[tuple[float, float, int]] = []  # (latency, launch lateness, status)
    connector = aiohttp.TCPConnector(limit=settings.connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(index: int, due: float) -> None:
            launched = time.perf_counter()
            headers = {SIGNATURE_HEADER: signatures[index], "Content-Type": "application/json"}
            try:
                async with session.post(
                    settings.url, data=bodies[index], headers=headers
                ) as answer:
                    await answer.read()
                    status = answer.status
            except aiohttp.ClientError:
                status = 0
            if index >= warmup:
                results.append((time.perf_counter() - due, launched - due, status))

        started = time.perf_counter()
        tasks = []
        for index in range(total):
            due = started + index / settings.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(index, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return summarize(results, settings=settings, elapsed=elapsed, total=total)


def summarize(
    results: list[tuple[float, float, int]], *, settings: LoadSettings, elapsed: float, total: int
) -> dict[str, Any]:
    latencies = [r[0] * 1000 for r in results]
    lateness = [r[1] * 1000 for r in results]
    statuses: dict[str, int] = {}
    for _, _, status in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "rate": settings.rate,
        "measured": len(results),
        "offered_per_second": round(total / elapsed, 1) if elapsed else 0.0,
        "statuses": statuses,
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2),
        "launch_lateness_p99_ms": round(percentile(lateness, 0.99), 2),
    }


def main() -> None:
    settings = LoadSettings(**json.loads(sys.stdin.readline()))
    print(json.dumps(asyncio.run(generate(settings))), flush=True)


if __name__ == "__main__":
    main()
