"""The migrated schema is a superset of the seed's, read from the live catalog.

The seed's DDL (tests/fixtures/seed_stage5.sql, the specification's SQL verbatim) is
applied to a scratch database that has only the Supabase compatibility layer; both
catalogs are then compared table by table: columns (type, nullability, default),
constraints (checks, foreign keys with ON DELETE, unique, primary key), indexes and
policies. The models play no part in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.catalog import TableCatalog, missing_from, read_table
from tests.support.databases import DatabaseFactory
from tripcast.models import SEED_TABLES, migrate
from tripcast.models.engine import create_db_engine

FIXTURE = Path(__file__).parents[1] / "fixtures" / "seed_stage5.sql"
SPEC = Path(__file__).parents[3] / "shared" / "SEED-stage5-whatsapp-automations.md"


@pytest.fixture(scope="module")
def seed_catalog(database_factory: DatabaseFactory) -> Iterator[dict[str, TableCatalog]]:
    name = "tripcast_seed_reference"
    database_factory.drop(name)
    engine = create_db_engine(database_factory.create(name), poolclass=sa.NullPool)
    try:
        migrate.upgrade(engine, "0001")  # the auth/trips stand-ins the seed references
        with engine.begin() as connection:
            connection.exec_driver_sql(FIXTURE.read_text())
            yield {table: read_table(connection, table) for table in SEED_TABLES}
    finally:
        engine.dispose()
        database_factory.drop(name)


@pytest.mark.parametrize("table", SEED_TABLES)
def test_live_schema_contains_every_seed_definition(
    engine: Engine, seed_catalog: dict[str, TableCatalog], table: str
) -> None:
    with engine.connect() as connection:
        live = read_table(connection, table)
    assert missing_from(live, seed_catalog[table]) == []


def test_seed_reference_is_not_empty(seed_catalog: dict[str, TableCatalog]) -> None:
    # Guards the comparison above against silently comparing nothing.
    messages = seed_catalog["whatsapp_messages"]
    assert len(messages.columns) == 17
    assert "idx_whatsapp_messages_created_at" in messages.indexes
    assert any(kind == "f" for kind, _ in messages.constraints.values())
    assert len(seed_catalog["whatsapp_accounts"].policies) == 2


def test_comparison_reports_a_drifted_column(
    engine: Engine, seed_catalog: dict[str, TableCatalog]
) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "ALTER TABLE whatsapp_messages ALTER COLUMN retry_count SET DEFAULT 1"
        )
        connection.exec_driver_sql(
            'DROP POLICY "Users can view their own messages" ON whatsapp_messages'
        )
        live = read_table(connection, "whatsapp_messages")
    problems = missing_from(live, seed_catalog["whatsapp_messages"])
    assert any("retry_count" in problem for problem in problems)
    assert "policy Users can view their own messages missing" in problems


@pytest.mark.skipif(not SPEC.exists(), reason="the specification is not beside the repository")
def test_fixture_is_the_specification_verbatim() -> None:
    blocks = re.findall(r"```sql\n(.*?)```", SPEC.read_text(), re.S)
    fixture = FIXTURE.read_text()
    seed_blocks = [block for block in blocks if "create table" in block or "policy" in block]
    assert len(seed_blocks) == 10
    for block in seed_blocks:
        assert block.strip() in fixture
