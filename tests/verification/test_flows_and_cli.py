"""The verification flows (as flow runs and through ``.fn``) and ``tripcast verify``."""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy.engine import Engine

from tests.support.flow_runs import run_flow
from tests.support.world import make_user
from tests.verification.support import account_of, sent_code, wrong
from tripcast.commands import verify
from tripcast.flows.verification import confirm_phone_verification, start_phone_verification

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def new_user(engine: Engine) -> uuid.UUID:
    with engine.begin() as connection:
        return make_user(connection)


def artifact_table(flow_run_id: object) -> list[dict[str, object]]:
    async def read() -> list[dict[str, object]]:
        from prefect.client.schemas.filters import (
            ArtifactFilter,
            ArtifactFilterFlowRunId,
            ArtifactFilterType,
        )

        # The table only: with PREFECT_RESULTS_PERSIST_BY_DEFAULT the run's persisted
        # result is an artifact of the run too.
        async with get_client() as client:
            (artifact,) = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
                    type=ArtifactFilterType(any_=["table"]),
                ),
            )
        data = artifact.data
        return json.loads(data) if isinstance(data, str) else data  # type: ignore[return-value]

    return asyncio.run(read())


@pytest.mark.usefixtures("prefect_harness")
def test_start_and_confirm_as_flow_runs(configured: Engine) -> None:
    user = new_user(configured)
    outcome, started = run_flow(
        start_phone_verification, user_id=user, phone="+351 912 345 678", now=NOW
    )
    assert outcome["outcome"] == "code_queued" and outcome["phone"] == "3519*****678"
    code = sent_code(configured, uuid.UUID(outcome["message_id"]))
    (row,) = artifact_table(started)
    assert row["outcome"] == "code_queued" and row["phone"] == "3519*****678"
    assert code not in json.dumps(row)

    # A typo is the traveller's, not a failed run: the run completes with the refusal.
    refusal, refused = run_flow(confirm_phone_verification, user_id=user, code=wrong(code), now=NOW)
    assert refusal["error"] == "wrong_code"
    (row,) = artifact_table(refused)
    assert (row["outcome"], row["reason"]) == ("rejected", "wrong_code")

    assert confirm_phone_verification(user_id=user, code=code, now=NOW)["outcome"] == "verified"
    assert account_of(configured, user)["is_verified"] is True


# Outside a flow run, the tasks' log records have no run to go to; Prefect warns.
@pytest.mark.filterwarnings("ignore:Logger 'prefect.task_runs' attempted to send logs")
@pytest.mark.usefixtures("prefect_harness")
def test_flows_through_fn_return_refusals_as_outcomes(configured: Engine) -> None:
    user = new_user(configured)
    invalid = start_phone_verification.fn(user_id=user, phone="12", now=NOW)
    assert invalid["outcome"] == "rejected" and invalid["error"] == "invalid_phone"
    sent = start_phone_verification.fn(user_id=user, phone="+351912345678", now=NOW)
    again = start_phone_verification.fn(user_id=user, phone="+351912345678", now=NOW)
    assert again["error"] == "resend_throttled" and "retry_at" in again
    code = sent_code(configured, uuid.UUID(sent["message_id"]))
    assert confirm_phone_verification.fn(user_id=user, code=code, now=NOW)["outcome"] == "verified"


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="tripcast")
    verify.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_verify_commands(configured: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    user = str(new_user(configured))
    assert run_cli("verify", "start", "--user", user, "--phone", "912345678", "--region", "PT",
                   "--now", "2026-05-01T09:00:00Z") == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "code queued for 3519*****678" in printed
    assert "expires at 2026-05-01 09:10:00Z" in printed
    message_id = uuid.UUID(printed.split("(message ")[1].split(")")[0])
    code = sent_code(configured, message_id)

    later = "2026-05-01T09:05:00Z"
    assert run_cli("verify", "confirm", "--user", user, "--code", wrong(code), "--now", later) == 1
    assert capsys.readouterr().err == "tripcast: wrong code: 4 attempts left for this code\n"
    assert run_cli("verify", "confirm", "--user", user, "--code", code,
                   "--now", "2026-05-01T09:05:00Z") == 0  # fmt: skip
    assert "verified" in capsys.readouterr().out


def test_verify_start_refuses_a_taken_number_in_one_line(
    configured: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = new_user(configured), new_user(configured)
    assert run_cli("verify", "start", "--user", str(first), "--phone", "+351912345678") == 0
    capsys.readouterr()
    assert run_cli("verify", "start", "--user", str(second), "--phone", "+351912345678") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "awaiting verification by another user" in err


def test_verify_rejects_a_malformed_user_id(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli("verify", "confirm", "--user", "bob", "--code", "123456")
    assert "not a user id (UUID): 'bob'" in capsys.readouterr().err
