"""Typed reads through SQLModel on the caller's connection: the rows come back as models,
and the caller's transaction (its writes, its row locks) is the one they were read in."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from tests.support.world import make_traveller
from tripcast.models import WhatsAppAccount
from tripcast.models.engine import typed_rows


def test_rows_come_back_as_models_and_see_the_callers_uncommitted_writes(engine: Engine) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection, phone="351912345678")
        rows = typed_rows(
            connection, select(WhatsAppAccount).where(WhatsAppAccount.user_id == traveller.user)
        )
        assert connection.in_transaction()
    assert [(type(row), row.id, row.phone_number) for row in rows] == [
        (WhatsAppAccount, traveller.account, "351912345678")
    ]
    with engine.connect() as connection:  # the caller's transaction committed as its own
        stored = connection.exec_driver_sql("SELECT count(*) FROM whatsapp_accounts")
        assert stored.scalar_one() == 1


def test_a_for_update_read_keeps_its_lock_until_the_callers_transaction_ends(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection)
    locking = select(WhatsAppAccount).where(WhatsAppAccount.user_id == traveller.user)
    with engine.begin() as holder, engine.connect() as other:
        typed_rows(holder, locking.with_for_update())
        with pytest.raises(OperationalError, match="could not obtain lock"):
            other.exec_driver_sql(
                "SELECT id FROM whatsapp_accounts WHERE id = %(id)s FOR UPDATE NOWAIT",
                {"id": traveller.account},
            )
    with engine.connect() as other:  # released with the holder's commit
        free = other.exec_driver_sql(
            "SELECT id FROM whatsapp_accounts WHERE id = %(id)s FOR UPDATE NOWAIT",
            {"id": traveller.account},
        )
        assert free.scalar_one() == traveller.account
