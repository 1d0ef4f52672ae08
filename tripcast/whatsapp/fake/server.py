"""Running the fake Cloud API: blocking (the CLI), or in the background (tests, demo).

``running_fake_cloud_api`` binds a free loopback port, in a thread of this process
or in a subprocess (which keeps the fake off this process's GIL: use it when
measuring), and yields a ``FakeCloudApi`` handle that drives the fake through its
``/_fake/`` control endpoints, the same way in both modes.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import IO

from aiohttp import web

from tripcast.whatsapp.fake.app import create_app
from tripcast.whatsapp.fake.config import FakeCloudApiConfig
from tripcast.whatsapp.fake.handle import FakeCloudApi

LISTENING = "fake Cloud API listening on "
SHUTDOWN_SECONDS = 0.5  # hanging "timeout" requests must not delay a stop


async def _start(config: FakeCloudApiConfig, *, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(create_app(config), access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=2048)
    await site.start()
    bound_port = runner.addresses[0][1]
    return runner, f"http://{host}:{bound_port}"


def run_fake_server(
    *, host: str = "127.0.0.1", port: int = 8089, config: FakeCloudApiConfig | None = None
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM); prints the base URL once bound."""
    asyncio.run(_serve_forever(config or FakeCloudApiConfig(), host=host, port=port))


async def _serve_forever(config: FakeCloudApiConfig, *, host: str, port: int) -> None:
    runner, base_url = await _start(config, host=host, port=port)
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(LISTENING + base_url, flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


@contextlib.contextmanager
def running_fake_cloud_api(
    config: FakeCloudApiConfig | None = None,
    *,
    in_subprocess: bool = False,
    host: str = "127.0.0.1",
) -> Iterator[FakeCloudApi]:
    """Start the fake on a free port for the duration of the ``with`` block."""
    config = config or FakeCloudApiConfig()
    starter = _subprocess_server if in_subprocess else _thread_server
    with starter(config, host) as base_url, FakeCloudApi(base_url, config) as fake:
        yield fake


@contextlib.contextmanager
def _thread_server(config: FakeCloudApiConfig, host: str) -> Iterator[str]:
    # Every loop operation happens in the thread: the caller may be inside a running
    # event loop of its own (an async test), where it could not drive another one.
    loop = asyncio.new_event_loop()
    started = threading.Event()
    outcome: dict[str, object] = {}

    def serve() -> None:
        try:
            runner, outcome["base_url"] = loop.run_until_complete(_start(config, host=host, port=0))
        except BaseException as error:  # reported to the caller below
            outcome["error"] = error
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=serve, name="fake-cloud-api", daemon=True)
    thread.start()
    started.wait()
    if "error" in outcome:
        loop.close()
        raise RuntimeError("the fake Cloud API did not start") from outcome["error"]  # type: ignore[misc]
    try:
        yield str(outcome["base_url"])
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@contextlib.contextmanager
def _subprocess_server(config: FakeCloudApiConfig, host: str) -> Iterator[str]:
    command = [sys.executable, "-m", "tripcast.whatsapp.fake", "--host", host, "--port", "0"]
    # The config goes through stdin: it holds the token and app secret.
    command += ["--config-json", "-"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdin is not None
    process.stdin.write(config.model_dump_json() + "\n")
    process.stdin.close()
    try:
        yield _read_base_url(process.stdout, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_base_url(stdout: IO[str] | None, process: subprocess.Popen[str]) -> str:
    line = stdout.readline() if stdout is not None else ""
    if not line.startswith(LISTENING):
        process.kill()
        raise RuntimeError(f"the fake Cloud API did not start (said {line!r})")
    return line[len(LISTENING) :].strip()
