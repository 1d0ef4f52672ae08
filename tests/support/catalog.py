"""A snapshot of what PostgreSQL's catalog says about a set of tables.

Used to compare tripcast's migrated schema against the seed's own DDL applied to a
scratch database: both sides are read back from the catalog, so the comparison does not
depend on how either was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %(table)s::regclass AND a.attnum > 0 AND NOT a.attisdropped
"""

CONSTRAINTS = """
SELECT conname, contype, pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid = %(table)s::regclass
"""

INDEXES = """
SELECT indexname, indexdef FROM pg_indexes
WHERE schemaname = 'public' AND tablename = %(name)s
"""

POLICIES = """
SELECT policyname, permissive, roles::text[], cmd, qual, with_check
FROM pg_policies WHERE schemaname = 'public' AND tablename = %(name)s
"""

KINDS = {"columns": "column", "constraints": "constraint", "indexes": "index", "policies": "policy"}

RLS = "SELECT relrowsecurity FROM pg_class WHERE oid = %(table)s::regclass"


@dataclass
class TableCatalog:
    columns: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    constraints: dict[str, tuple[str, str]] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)
    policies: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    rls_enabled: bool = False


def read_table(connection: Connection, name: str) -> TableCatalog:
    params = {"table": f"public.{name}", "name": name}

    def rows(sql: str) -> list[Any]:
        return list(connection.exec_driver_sql(sql, params))

    return TableCatalog(
        columns={row[0]: tuple(row[1:]) for row in rows(COLUMNS)},
        constraints={row[0]: (row[1], row[2]) for row in rows(CONSTRAINTS)},
        indexes={row[0]: row[1] for row in rows(INDEXES)},
        policies={
            row[0]: (row[1], tuple(row[2]), row[3], row[4], row[5]) for row in rows(POLICIES)
        },
        rls_enabled=bool(connection.exec_driver_sql(RLS, params).scalar()),
    )


def missing_from(live: TableCatalog, seed: TableCatalog) -> list[str]:
    """Everything the seed's catalog has that the live one lacks or has differently."""
    problems: list[str] = []
    for kind, noun in KINDS.items():
        wanted: dict[str, Any] = getattr(seed, kind)
        have: dict[str, Any] = getattr(live, kind)
        for key, definition in wanted.items():
            if key not in have:
                problems.append(f"{noun} {key} missing")
            elif have[key] != definition:
                problems.append(f"{noun} {key}: seed {definition!r}, live {have[key]!r}")
    if seed.rls_enabled and not live.rls_enabled:
        problems.append("row level security not enabled")
    return problems
