"""``tripcast db ...`` as a user runs it: a real process, a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.support.databases import DatabaseFactory
from tripcast.models import migrate


def run_tripcast(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRIPCAST_")}
    return subprocess.run(
        [sys.executable, "-m", "tripcast.cli", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_upgrade_an_empty_external_database(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    name = "tripcast_cli_upgrade"
    database_factory.drop(name)
    url = database_factory.create(name).replace("postgresql+psycopg://", "postgresql://")
    try:
        done = run_tripcast("db", "upgrade", env={"TRIPCAST_DATABASE_URL": url}, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"database at migration {migrate.head_revision()}"
        current = run_tripcast("db", "current", env={"TRIPCAST_DATABASE_URL": url}, cwd=tmp_path)
        assert "(up to date)" in current.stdout
        down = run_tripcast(
            "db", "downgrade", "base", env={"TRIPCAST_DATABASE_URL": url}, cwd=tmp_path
        )
        assert down.stdout.strip() == "database at migration base"
    finally:
        database_factory.drop(name)


@pytest.mark.skipif(
    bool(os.environ.get("TRIPCAST_TEST_DATABASE_URL")), reason="exercises the embedded default only"
)
def test_embedded_default_starts_migrates_and_stops(tmp_path: Path) -> None:
    home = tmp_path / "h"
    done = run_tripcast("db", "upgrade", env={"TRIPCAST_HOME": str(home)}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (home / "pgdata" / "PG_VERSION").exists()
    # Reused by the next command, which sees the migrations already applied.
    again = run_tripcast("db", "current", env={"TRIPCAST_HOME": str(home)}, cwd=tmp_path)
    assert "(up to date)" in again.stdout
    # Stopped when the last command exited: no postmaster left behind.
    assert not (home / "pgdata" / "postmaster.pid").exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"TRIPCAST_DATABASE_URL": "mysql://root:hunter2@db/x"},
            "tripcast: TRIPCAST_DATABASE_URL is invalid: must be a postgresql:// URL",
        ),
        (
            {"TRIPCAST_DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:1/nowhere"},
            "tripcast: cannot connect to the database at 127.0.0.1:1/nowhere:",
        ),
        ({"TRIPCAST_SEND_RATE": "-5"}, "tripcast: TRIPCAST_SEND_RATE is invalid"),
    ],
)
def test_bad_configuration_is_one_clear_line(
    env: dict[str, str], expected: str, tmp_path: Path
) -> None:
    done = run_tripcast("db", "upgrade", env=env, cwd=tmp_path)
    assert done.returncode in (2, 3)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(expected)
    assert "hunter2" not in done.stderr


def test_database_at_unknown_migration_is_refused(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    url = engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    done = run_tripcast("db", "upgrade", env={"TRIPCAST_DATABASE_URL": url}, cwd=tmp_path)
    assert done.returncode == 3
    assert done.stderr.strip().startswith("tripcast: the database is at migration 9999, unknown")
