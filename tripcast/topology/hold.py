"""Holds the embedded PostgreSQL open for the stack (``pgserver`` stops it when the last
process using it exits), until SIGTERM."""

from __future__ import annotations

import signal
import threading

from tripcast.models.engine import sqlalchemy_url
from tripcast.settings import get_settings


def main() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sqlalchemy_url(get_settings())  # starts (or joins) the embedded server
    print("holding the embedded PostgreSQL open", flush=True)
    stop.wait()


if __name__ == "__main__":
    main()
