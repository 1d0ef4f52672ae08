"""The rerun-failed flow (as a flow run and through ``.fn``) and ``tripcast rerun-failed``."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy.engine import Engine

from tests.reruns.support import failed_message, statuses
from tests.support.flow_runs import run_flow
from tests.support.lossy_api import losing_one_completion
from tests.support.world import make_traveller
from tripcast.commands import rerun
from tripcast.flows.reruns import rerun_failed
from tripcast.reruns import InvalidSelection

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=1)


def seed(engine: Engine) -> None:
    with engine.begin() as connection:
        who = make_traveller(connection)
        failed_message(connection, who, failed_at=NOW - timedelta(hours=2))
        failed_message(connection, who, failed_at=NOW - timedelta(hours=1), template="budget")
        failed_message(connection, who, failed_at=NOW - timedelta(hours=1), error_code=131026)


def artifacts(flow_run_id: object) -> dict[str, list[dict[str, Any]]]:
    async def read() -> dict[str, list[dict[str, Any]]]:
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
                ),
            )
        return {
            str(a.key): json.loads(a.data) if isinstance(a.data, str) else a.data  # type: ignore[misc]
            for a in found
        }

    return asyncio.run(read())


@pytest.mark.usefixtures("prefect_harness")
def test_dry_run_then_rerun_as_flow_runs(configured: Engine) -> None:
    seed(configured)
    before = statuses(configured)
    dry, dry_run_id = run_flow(rerun_failed, since=SINCE, dry_run=True, now=NOW)
    assert dry["would_requeue"] == 2
    assert statuses(configured) == before
    tables = artifacts(dry_run_id)
    assert {"outcome": "excluded", "reason": "permanent:131026", "template": "trip_reminder",
            "count": 1} in tables["rerun-failed-summary"]  # fmt: skip
    preview = tables["rerun-failed-preview"]
    assert [row["outcome"] for row in preview] == ["would_requeue", "would_requeue", "excluded"]
    assert preview[0]["failed_at"] == (NOW - timedelta(hours=2)).isoformat()

    done, done_run_id = run_flow(
        rerun_failed, since=SINCE, templates=["budget"], now=NOW, note="fixed"
    )
    assert done["requeued"] == 1
    summary = artifacts(done_run_id)["rerun-failed-summary"]
    assert summary == [
        {"outcome": "requeued", "reason": "error 130429", "template": "budget", "count": 1}
    ]
    assert sorted(statuses(configured).values()) == ["failed", "failed", "pending"]


# Outside a flow run, the tasks' log records have no run to go to; Prefect warns.
@pytest.mark.filterwarnings("ignore:Logger 'prefect.task_runs' attempted to send logs")
@pytest.mark.usefixtures("prefect_harness")
def test_flow_through_fn(configured: Engine) -> None:
    seed(configured)
    result = rerun_failed.fn(error_codes=[131026], include_permanent=True, now=NOW)
    assert (result["requeued"], result["excluded"]) == (1, {})
    assert rerun_failed.fn(error_codes=[131026], include_permanent=True, now=NOW)["rows"] == []
    with pytest.raises(InvalidSelection, match="at least one filter"):
        rerun_failed.fn(dry_run=True, now=NOW)


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="tripcast")
    rerun.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


@pytest.mark.usefixtures("prefect_harness")
def test_rerun_failed_command(
    configured: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    seed(configured)
    window = ("--since", "2026-04-30T09:00:00Z", "--now", "2026-05-01T09:00:00Z")
    assert run_cli("rerun-failed", *window, "--dry-run") == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "dry run: 2 would be re-queued, 1 excluded"
    assert printed[1].split() == ["outcome", "reason", "template", "count"]
    assert printed[-1].split() == ["excluded", "permanent:131026", "trip_reminder", "1"]
    assert run_cli("rerun-failed", *window, "--template", "trip_reminder", "--note", "x") == 0
    assert capsys.readouterr().out.startswith("re-queued 1, excluded 1 (run ")


def test_rerun_failed_refuses_bad_filters_before_starting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(InvalidSelection, match="give at least one filter"):
        run_cli("rerun-failed", "--dry-run")
    with pytest.raises(SystemExit):
        run_cli("rerun-failed", "--since", "2026-05-01T09:00")
    assert "must carry a timezone" in capsys.readouterr().err


@pytest.mark.usefixtures("prefect_harness")
def test_rerun_failed_command_when_the_completion_answer_is_lost(
    configured: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # The client retries the completion, the API rejects the duplicate and answers with
    # its own state, without the (unpersisted) result: the command prints it all the same.
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    seed(configured)
    window = ("--since", "2026-04-30T09:00:00Z", "--now", "2026-05-01T09:00:00Z")
    with losing_one_completion(PREFECT_API_URL.value()) as (api_url, lost):  # noqa: SIM117
        with temporary_settings(updates={PREFECT_API_URL: api_url}):  # the proxy's url first
            assert run_cli("rerun-failed", *window, "--dry-run") == 0
    assert len(lost) == 1
    assert capsys.readouterr().out.startswith("dry run: 2 would be re-queued, 1 excluded")
