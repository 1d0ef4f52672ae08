"""``tripcast sweep --now`` as an operator runs it, against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import make_traveller, queue_message
from tests.support.world import make_account, make_rule, make_trip, make_user


def run_sweep(
    engine: Engine, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``tripcast sweep`` without a Prefect server unless ``env`` names one."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("TRIPCAST_", "PREFECT_"))
    }
    environment["TRIPCAST_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    environment["PREFECT_HOME"] = str(cwd / "prefect")
    # Were the sweep to start a temporary Prefect API after all, it would fail instead.
    environment["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] = "false"
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tripcast.cli", "sweep", *args],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def harness_api() -> dict[str, str]:
    """The session's Prefect test server, as PREFECT_API_URL."""
    import prefect.settings

    return {"PREFECT_API_URL": str(prefect.settings.PREFECT_API_URL.value())}


@pytest.mark.usefixtures("prefect_harness")
def test_sweep_command_plans_and_executes_once(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        make_account(connection, user_id=user)
        make_trip(connection, user_id=user, start=date(2026, 5, 2))
        make_rule(
            connection, user_id=user, trigger_type="trip_start", trigger_config={"days_before": 1}
        )
    api = harness_api()
    done = run_sweep(
        engine, "--now", "2026-05-01T09:00:00Z", "--no-dispatch", cwd=tmp_path, env=api
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["planned"]["trip_start"] == 1
    assert report["jobs"] == {"completed:send_whatsapp": 1}
    again = run_sweep(
        engine, "--now", "2026-05-01T09:01:00Z", "--no-dispatch", cwd=tmp_path, env=api
    )
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
    done = run_sweep(engine, "--now", "2026-05-01T09:00:00Z", cwd=tmp_path, env=whatsapp)
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


def test_sweep_without_a_prefect_server_runs_here_and_sends_once(
    engine: Engine, tmp_path: Path, fake_whatsapp: Any
) -> None:
    from tests.dispatch.builders import make_traveller

    with engine.begin() as connection:
        user = make_traveller(connection, last_inbound_at=datetime.now(UTC)).user_id
        make_trip(connection, user_id=user, start=date(2026, 5, 2))
        make_rule(
            connection, user_id=user, trigger_type="trip_start", trigger_config={"days_before": 1}
        )
    whatsapp = {
        "TRIPCAST_WHATSAPP_API_URL": fake_whatsapp.base_url,
        "TRIPCAST_WHATSAPP_PHONE_NUMBER_ID": fake_whatsapp.phone_number_id,
        "TRIPCAST_WHATSAPP_ACCESS_TOKEN": fake_whatsapp.access_token,
    }
    done = run_sweep(engine, "--now", "2026-05-01T09:00:00Z", cwd=tmp_path, env=whatsapp)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["planned"]["trip_start"] == 1
    assert report["jobs"] == {"completed:send_whatsapp": 1}
    # Sent once; a busy machine may first make its paced slot late (deferred, then sent).
    assert report["messages"]["sent"] == 1
    assert set(report["messages"]) <= {"sent", "deferred"}
    with engine.connect() as connection:
        message_id = connection.exec_driver_sql("SELECT id FROM whatsapp_messages").scalar_one()
    assert fake_whatsapp.accepted_count(str(message_id)) == 1
    # No Prefect state was written: no temporary server ran.
    assert not (tmp_path / "prefect").exists() or not any((tmp_path / "prefect").iterdir())


def test_sweep_with_an_unreachable_prefect_server_says_so(engine: Engine, tmp_path: Path) -> None:
    from tests.support.net import free_port

    url = f"http://127.0.0.1:{free_port()}/api"
    done = run_sweep(engine, "--no-dispatch", cwd=tmp_path, env={"PREFECT_API_URL": url})
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"tripcast: PREFECT_API_URL {url} does not answer")
    assert line.endswith("start the Prefect server or fix PREFECT_API_URL")
