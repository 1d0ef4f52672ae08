"""One exception base: every error class tripcast defines derives from ``TripcastError``,
and the CLI turns each kind into one line and its exit code."""

from __future__ import annotations

import argparse
import inspect
from types import SimpleNamespace

import pytest

from tests.support.package import tripcast_modules
from tripcast import cli
from tripcast.dispatch.run_report import DispatchReport
from tripcast.dispatch.stopped import DispatchStopped
from tripcast.exceptions import EXIT_CONFIG, EXIT_DATABASE, EXIT_FAILURE, TripcastError
from tripcast.models.engine import DatabaseUnavailable
from tripcast.models.migrate import UnknownRevision
from tripcast.rules.config_errors import InvalidRuleConfig
from tripcast.settings import ConfigError
from tripcast.whatsapp.api_errors import AuthError, ServerError


def defined_exception_classes() -> list[type[BaseException]]:
    classes: list[type[BaseException]] = []
    for module in tripcast_modules():
        for _, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ == module.__name__ and issubclass(value, BaseException):
                classes.append(value)
    return classes


def test_every_exception_class_of_the_package_derives_from_the_base() -> None:
    classes = defined_exception_classes()
    assert len(classes) > 40  # the walk found the package's modules
    strays = [c.__qualname__ for c in classes if not issubclass(c, TripcastError)]
    assert strays == []


def test_only_errors_a_wait_can_cure_are_transient() -> None:
    assert DatabaseUnavailable.transient and ServerError.transient
    assert not ConfigError.transient and not AuthError.transient
    assert not DispatchStopped.transient


def _stopped() -> DispatchStopped:
    refused = AuthError("Error validating access token", code=190)
    return DispatchStopped(refused, report=DispatchReport(), left_pending=2)


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (ConfigError("TRIPCAST_DATABASE_URL is not set"), EXIT_CONFIG),
        (InvalidRuleConfig("trip_start trigger_config.days_before must be 0-365"), EXIT_CONFIG),
        (ValueError("--now must carry a timezone"), EXIT_CONFIG),
        (DatabaseUnavailable("cannot connect to the database at db:5432/tripcast"), EXIT_DATABASE),
        (UnknownRevision("unknown revision 9999"), EXIT_DATABASE),
        (_stopped(), EXIT_FAILURE),
        (ServerError("Service temporarily unavailable", code=2, http_status=503), EXIT_FAILURE),
    ],
    ids=["config", "rule", "bad-value", "database", "revision", "stopped", "cloud-api"],
)
def test_the_cli_prints_one_line_and_the_kind_s_exit_code(
    error: Exception,
    exit_code: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        def fail(_args: argparse.Namespace) -> int:
            raise error

        commands.add_parser("fail").set_defaults(handler=fail)

    monkeypatch.setattr(cli, "COMMAND_MODULES", (SimpleNamespace(register=register),))
    assert cli.main(["fail"]) == exit_code
    printed = capsys.readouterr()
    assert printed.err == f"tripcast: {error}\n"
    assert printed.out == ""
