"""Holds the embedded PostgreSQL open for the stack (``pgserver`` stops it when the last
process using it exits), until SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

from tripcast.models.embedded import stop_embedded_servers
from tripcast.models.engine import sqlalchemy_url
from tripcast.settings import get_settings

HANDLE_PIDS = ".handle_pids.json"  # pgserver's list of the processes using the server


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_users(pgdata: Path) -> None:
    """pgserver counts a process that died without exiting cleanly (a SIGKILLed flow run)
    as a user forever, and would never stop the server: drop those pids."""
    path = pgdata / HANDLE_PIDS
    if path.is_file():
        pids = json.loads(path.read_text())
        path.write_text(json.dumps([pid for pid in pids if _alive(pid)]))


def main() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    settings = get_settings()
    sqlalchemy_url(settings)  # starts (or joins) the embedded server
    print("holding the embedded PostgreSQL open", flush=True)
    stop.wait()
    forget_dead_users((settings.home / "pgdata").resolve())
    stop_embedded_servers()  # the server stops unless another live process still uses it


if __name__ == "__main__":
    main()
