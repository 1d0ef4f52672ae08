"""The catalog is the service's: travellers (``authenticated``) and ``anon`` read nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.engine import Engine

from tests.models.test_rls import as_role


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO whatsapp_templates (name, language, status)"
            " VALUES ('trip_reminder', 'en_US', 'APPROVED')"
        )
        # As Supabase's default privileges would: only RLS stands in the way.
        connection.exec_driver_sql("GRANT SELECT ON whatsapp_templates TO anon, authenticated")
    return engine


def readable(engine: Engine, role: str) -> int:
    sub = uuid.uuid4() if role == "authenticated" else None
    with as_role(engine, role, sub=sub) as connection:
        return int(connection.exec_driver_sql("SELECT count(*) FROM whatsapp_templates").scalar())


@pytest.mark.parametrize("role", ["authenticated", "anon"])
def test_travellers_and_anon_read_nothing(seeded: Engine, role: str) -> None:
    assert readable(seeded, role) == 0


def test_service_role_and_owner_read_the_catalog(seeded: Engine) -> None:
    assert readable(seeded, "service_role") == 1
    with seeded.connect() as connection:
        enabled = connection.exec_driver_sql(
            "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.whatsapp_templates'::regclass"
        ).scalar()
    assert enabled is True
