"""``tripcast sweep --now`` as an operator runs it, against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import make_traveller, queue_message
from tests.support.world import make_account, make_rule, make_trip, make_user


def run_sweep(
    engine: Engine, *args: str, cwd: Path, settings: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    import prefect.settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPCAST_")}
    env |= settings or {}
    env["TRIPCAST_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    # Reuse the session's Prefect test server rather than starting one per process.
    env["PREFECT_API_URL"] = str(prefect.settings.PREFECT_API_URL.value())
    env["PREFECT_HOME"] = str(cwd / "prefect")
    return subprocess.run(
        [sys.executable, "-m", "tripcast.cli", "sweep", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.usefixtures("prefect_harness")
def test_sweep_command_plans_and_executes_once(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_account(connection, user_id=user)
        make_trip(connection, user_id=user, start=date(2026, 5, 2))
        make_rule(
            connection, user_id=user, trigger_type="trip_start", trigger_config={"days_before": 1}
        )
    done = run_sweep(engine, "--now", "2026-05-01T09:00:00Z", "--no-dispatch", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["planned"]["trip_start"] == 1
    assert report["jobs"] == {"completed:send_whatsapp": 1}
    again = run_sweep(engine, "--now", "2026-05-01T09:01:00Z", "--no-dispatch", cwd=tmp_path)
    assert json.loads(again.stdout)["jobs"] == {}
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT status FROM whatsapp_messages"
        ).scalars().all() == ["pending"]


def test_sweep_without_whatsapp_settings_names_the_variable(engine: Engine, tmp_path: Path) -> None:
    done = run_sweep(engine, "--now", "2026-05-01T09:00:00Z", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "tripcast: TRIPCAST_WHATSAPP_PHONE_NUMBER_ID is not set (required here)"
    )


def test_sweep_refuses_a_token_pasted_with_a_newline_before_claiming_anything(
    engine: Engine, tmp_path: Path
) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        queue_message(connection, traveller)
    whatsapp = {
        "TRIPCAST_WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "TRIPCAST_WHATSAPP_ACCESS_TOKEN": "EAAG-pasted-token\n",
    }
    done = run_sweep(engine, "--now", "2026-05-01T09:00:00Z", cwd=tmp_path, settings=whatsapp)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "tripcast: TRIPCAST_WHATSAPP_ACCESS_TOKEN is invalid: must not contain spaces, "
        "newlines or control characters (pasted with one?)"
    )
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT status, send_started_at, retry_count FROM whatsapp_messages"
        ).all() == [("pending", None, 0)]


def test_sweep_refuses_naive_now_and_unmigrated_database(engine: Engine, tmp_path: Path) -> None:
    naive = run_sweep(engine, "--now", "2026-05-01T09:00", cwd=tmp_path)
    assert naive.returncode == 2
    assert "--now must carry a timezone" in naive.stderr
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0005'")
    stale = run_sweep(engine, "--no-dispatch", cwd=tmp_path)
    assert stale.returncode == 3
    assert stale.stderr.strip().endswith("run `tripcast db upgrade` first")
