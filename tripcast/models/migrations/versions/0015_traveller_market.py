"""A traveller's stored market, and each sender's throughput level as Meta reports it.

``whatsapp_accounts.market``: the ISO 3166 alpha-2 country a traveller is served from
(``PT``), set by the application when it knows better than the phone number (a
Portuguese traveller with a UK SIM). Routing prefers it to the phone prefix. The check
keeps the form; the country itself is validated in Python (``tripcast.senders.markets``).

``whatsapp_senders.throughput_level``: Meta's ``throughput.level`` for the number
(``STANDARD``: 80 messages/s, ``HIGH``: up to 1,000), read by ``tripcast senders sync``
with the quality rating and the portfolio's messaging-limit tier.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("whatsapp_accounts", sa.Column("market", sa.Text))
    op.create_check_constraint(
        "whatsapp_accounts_market_check", "whatsapp_accounts", "market ~ '^[A-Z]{2}$'::text"
    )
    op.add_column("whatsapp_senders", sa.Column("throughput_level", sa.Text))
    op.add_column("whatsapp_senders", sa.Column("synced_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("whatsapp_senders", "synced_at")
    op.drop_column("whatsapp_senders", "throughput_level")
    op.drop_constraint("whatsapp_accounts_market_check", "whatsapp_accounts", type_="check")
    op.drop_column("whatsapp_accounts", "market")
