"""The database itself rejects rows that break the seed's checks and foreign keys."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.world import insert, make_account, make_user


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("whatsapp_messages", "direction", "sideways"),
        ("whatsapp_messages", "message_type", "sticker"),
        ("whatsapp_messages", "status", "lost"),
        ("whatsapp_accounts", "opt_in_status", "maybe"),
        ("scheduled_jobs", "status", "sleeping"),
        ("automation_rules", "trigger_type", "full_moon"),
        ("automation_rules", "action_type", "send_pigeon"),
        ("delivery_logs", "channel", "fax"),
        ("delivery_logs", "status", "lost"),
    ],
)
def test_seed_check_rejects_value(engine: Engine, table: str, column: str, value: str) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        account = make_account(connection, user_id=user)
        row = valid_row(table, user=user, account=account)
    row[column] = value
    with (
        pytest.raises(sa.exc.IntegrityError, match=f"{table}_{column}_check"),
        engine.begin() as connection,
    ):
        insert(connection, table, **row)


def valid_row(table: str, *, user: uuid.UUID, account: uuid.UUID) -> dict[str, object]:
    rows: dict[str, dict[str, object]] = {
        "whatsapp_messages": {
            "user_id": user,
            "whatsapp_account_id": account,
            "direction": "outbound",
            "message_type": "text",
            "content": "hi",
        },
        "whatsapp_accounts": {
            "user_id": uuid.uuid4(),
            "phone_number": "14155550000",
            "country_code": "US",
            "opt_in_status": "pending",
        },
        "scheduled_jobs": {
            "user_id": user,
            "job_type": "x",
            "scheduled_for": "2026-01-01Z",
            "status": "pending",
        },
        "automation_rules": {
            "user_id": user,
            "name": "r",
            "trigger_type": "trip_start",
            "trigger_config": "{}",
            "action_type": "send_whatsapp",
            "action_config": "{}",
        },
        "delivery_logs": {
            "user_id": user,
            "channel": "whatsapp",
            "recipient": "1",
            "status": "sent",
        },
    }
    return rows[table]


def test_deleting_a_user_cascades_and_logs_keep_history(engine: Engine) -> None:
    with engine.begin() as connection:
        user = make_user(connection)
        account = make_account(connection, user_id=user)
        message = connection.exec_driver_sql(
            "INSERT INTO whatsapp_messages (user_id, whatsapp_account_id, direction, "
            "message_type, content) VALUES (%(u)s, %(a)s, 'outbound', 'text', 'hi') RETURNING id",
            {"u": user, "a": account},
        ).scalar()
        other = make_user(connection)
        connection.exec_driver_sql(
            "INSERT INTO delivery_logs (user_id, whatsapp_message_id, channel, recipient, status)"
            " VALUES (%(u)s, %(m)s, 'whatsapp', 'x', 'sent')",
            {"u": other, "m": message},
        )
        connection.exec_driver_sql("DELETE FROM whatsapp_accounts WHERE id = %(a)s", {"a": account})
        assert connection.exec_driver_sql("SELECT count(*) FROM whatsapp_messages").scalar() == 0
        # ON DELETE SET NULL: the log of a deleted message stays, unlinked.
        assert (
            connection.exec_driver_sql("SELECT whatsapp_message_id FROM delivery_logs").scalar()
            is None
        )
