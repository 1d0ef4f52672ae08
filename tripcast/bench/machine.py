"""The facts a result is meaningless without: cores, memory, versions, date, load."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata

from sqlalchemy.engine import Engine

LIBRARIES = ("sqlalchemy", "psycopg", "httpx", "aiohttp", "uvicorn", "prefect")


@dataclass(frozen=True)
class Machine:
    cores: int
    memory_gib: float
    system: str
    python: str
    postgres: str
    libraries: str
    date: str

    def lines(self) -> list[str]:
        return [
            f"Date: {self.date}.",
            f"Machine: {self.cores} cores, {self.memory_gib:.1f} GiB memory, {self.system}.",
            f"PostgreSQL {self.postgres}; Python {self.python}; {self.libraries}.",
        ]


def describe_machine(engine: Engine) -> Machine:
    with engine.connect() as connection:
        postgres = str(connection.exec_driver_sql("SHOW server_version").scalar_one())
    return Machine(
        cores=os.cpu_count() or 1,
        memory_gib=_memory_bytes() / 2**30,
        system=f"{platform.system()} {platform.machine()}",
        python=platform.python_version(),
        postgres=postgres.split()[0],
        libraries=", ".join(f"{name} {_version(name)}" for name in LIBRARIES),
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
    )


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
