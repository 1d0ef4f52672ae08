"""A bad setup fails at start with one line naming what to fix, and a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.support.net import free_port

EXIT_CONFIG = 2
EXIT_DATABASE = 3


def tripcast(engine: Engine, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("TRIPCAST_", "PREFECT_"))
    }
    environment.update(
        TRIPCAST_DATABASE_URL=engine.url.render_as_string(hide_password=False),
        PREFECT_HOME=str(cwd / "prefect"),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "tripcast.cli", *args],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    [line] = done.stderr.strip().splitlines()
    return line


def test_an_unreachable_prefect_api_is_named(engine: Engine, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    for command in (["worker", "--check"], ["deploy"], ["serve"]):
        done = tripcast(engine, *command, cwd=tmp_path, PREFECT_API_URL=url)
        assert done.returncode == EXIT_CONFIG, done.stderr
        line = one_line(done)
        assert line.startswith(f"tripcast: PREFECT_API_URL {url} does not answer"), line
        assert line.endswith("start the Prefect server or fix PREFECT_API_URL")


def test_no_prefect_api_at_all_is_named(engine: Engine, tmp_path: Path) -> None:
    done = tripcast(engine, "worker", "--check", cwd=tmp_path)
    assert done.returncode == EXIT_CONFIG
    assert one_line(done).startswith("tripcast: PREFECT_API_URL is not set: start a Prefect")


@pytest.mark.usefixtures("prefect_harness")
def test_a_missing_work_pool_is_named(engine: Engine, tmp_path: Path) -> None:
    import prefect.settings

    url = str(prefect.settings.PREFECT_API_URL.value())
    # The session's server is shared: another test may have deployed.
    httpx.delete(f"{url}/work_pools/tripcast", timeout=10)
    done = tripcast(engine, "worker", "--check", cwd=tmp_path, PREFECT_API_URL=url)
    assert done.returncode == EXIT_CONFIG, done.stderr
    assert one_line(done) == (
        f"tripcast: the work pool 'tripcast' does not exist on {url}: run `tripcast deploy` "
        "(it creates the pool and applies prefect.yaml)"
    )


def test_a_worker_for_another_checkout_is_refused(engine: Engine, tmp_path: Path) -> None:
    other = tmp_path / "other-checkout"
    other.mkdir()
    done = tripcast(engine, "worker", "--check", cwd=tmp_path, TRIPCAST_CHECKOUT_DIR=str(other))
    assert done.returncode == EXIT_CONFIG
    line = one_line(done)
    assert line.startswith(f"tripcast: TRIPCAST_CHECKOUT_DIR={other} is not the checkout")
    assert "unset TRIPCAST_CHECKOUT_DIR" in line


def test_a_database_at_an_older_migration_is_named(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0005'")
    url = f"http://127.0.0.1:{free_port()}/api"  # never reached: the database comes first
    done = tripcast(engine, "worker", "--check", cwd=tmp_path, PREFECT_API_URL=url)
    assert done.returncode == EXIT_DATABASE
    assert one_line(done).startswith("tripcast: the database is at migration 0005, not ")
    assert one_line(done).endswith("run `tripcast db upgrade` first")
