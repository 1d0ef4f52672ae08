"""``tripcast bench``: its options, the report it writes, and its refusal."""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.databases import DatabaseFactory, url_for
from tripcast.bench.benchmarks_md import replace_block
from tripcast.bench.database import BenchRefused, ScratchServer
from tripcast.commands import bench
from tripcast.models.engine import create_db_engine


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="tripcast")
    bench.register(root.add_subparsers(dest="command"))
    return root


def test_options() -> None:
    args = parser().parse_args(["bench", "--only", "scale,planning", "--only", "memory"])
    assert args.size == "full"
    names = bench.selected(args.only)
    assert names == ["scale", "planning", "memory"]
    assert (
        bench.command_line(args, names) == "tripcast bench --only scale,planning,memory --size full"
    )
    assert bench.selected(None) == list(bench.NAMES)
    assert bench.output_path(args) == Path("BENCHMARKS.md")
    small = parser().parse_args(["bench", "--size", "small"])
    assert bench.output_path(small) is None  # a smoke run never overwrites full results
    assert bench.output_path(parser().parse_args(["bench", "--no-write"])) is None
    with pytest.raises(ValueError, match="unknown benchmark"):
        bench.selected(["speed"])
    positional = parser().parse_args(["bench", "latency", "--size", "small"])
    assert positional.names == ["latency"] and positional.only is None


def test_blocks_are_replaced_in_place_or_appended() -> None:
    block = "<!-- tripcast-bench:scale:begin -->\nold\n<!-- tripcast-bench:scale:end -->"
    text = f"# Benchmarks\n\nintro\n\n{block}\n\nfindings\n"
    replaced = replace_block(text, "scale", body="new\n")
    assert "old" not in replaced and "new\n<!-- tripcast-bench:scale:end -->" in replaced
    assert replaced.endswith("findings\n") and "intro" in replaced
    appended = replace_block(replaced, "memory", body="peak\n")
    assert appended.index("findings") < appended.index("## Memory")


@pytest.mark.integration
def test_run_writes_results_on_a_scratch_database(
    database_factory: DatabaseFactory,
    pg_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tripcast.settings import get_settings

    monkeypatch.setenv("TRIPCAST_DATABASE_URL", database_factory.admin)
    get_settings.cache_clear()
    output, results = tmp_path / "BENCHMARKS.md", tmp_path / "results.json"
    output.write_text("# Benchmarks\n\nHand-written notes stay.\n")
    args = parser().parse_args(
        [
            "bench",
            "--only",
            "scale",
            "--size",
            "small",
            "--output",
            str(output),
            "--json",
            str(results),
        ]
    )
    try:
        assert args.handler(args) == 0
    finally:
        get_settings.cache_clear()
    written = output.read_text()
    assert (
        "Hand-written notes stay." in written and "<!-- tripcast-bench:scale:begin -->" in written
    )
    assert "tripcast bench --only scale --size small" in written and "Load average" in written
    assert "tripcast-bench:summary" not in written  # only a run of everything writes it
    assert str(pg_home) not in written and "host=" not in written  # no machine paths
    assert [r["name"] for r in json.loads(results.read_text())["results"]] == ["scale"]
    admin = create_db_engine(database_factory.admin, poolclass=sa.NullPool)
    with admin.connect() as connection:
        left = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_database WHERE datname LIKE %(prefix)s",
            {"prefix": "tripcast_bench%"},
        ).scalar_one()
    admin.dispose()
    assert left == 0  # its scratch databases are dropped, the server's others untouched


@pytest.mark.integration
def test_a_role_that_cannot_create_databases_is_refused(database_factory: DatabaseFactory) -> None:
    role = f"tc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_db_engine(
        database_factory.admin, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD 'x'")
    try:
        url = sa.make_url(url_for(database_factory.admin, "postgres")).set(
            username=role, password="x"
        )
        server = ScratchServer(
            url.render_as_string(hide_password=False), name="tripcast_bench_x", external=True
        )
        with pytest.raises(BenchRefused, match="may not create databases"):
            server.prepare()
        server.close()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()


def test_the_embedded_server_gets_its_own_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tripcast.models import embedded
    from tripcast.settings import load_settings

    class Server:
        def get_uri(self, database: str) -> str:
            return f"postgresql://postgres:@/{database}?host={tmp_path}"

    monkeypatch.setattr(embedded, "embedded_server", lambda home: Server())
    monkeypatch.delenv("TRIPCAST_DATABASE_URL", raising=False)
    server = ScratchServer.from_settings(load_settings(home=tmp_path))
    assert (server.name, server.template, server.external) == (
        "tripcast_bench",
        "tripcast_bench_template",
        False,
    )
    assert "/postgres?" in server.admin_url
    assert server.describe() == "scratch database tripcast_bench on the embedded server"
