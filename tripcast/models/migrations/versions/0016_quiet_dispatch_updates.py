"""No outbox notification for a dispatcher's claim or in-flight mark.

Every update of ``whatsapp_messages`` notified ``tripcast_whatsapp_messages``, so each
sent message cost three trigger calls and three notifications although two of them (the
claim's lease, the in-flight mark) repeat the payload listeners already had: same op,
id, direction, status and category. An update of a row held under a lease that changes
none of those is now silent; the write that settles or releases the row (its lease
cleared) still notifies, so a row going back to the queue still wakes the followers.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SPLIT = """
drop trigger whatsapp_messages_notify on public.whatsapp_messages;
create trigger whatsapp_messages_notify
  after insert on public.whatsapp_messages
  for each row execute function public.tripcast_notify_whatsapp_message();
create trigger whatsapp_messages_notify_update
  after update on public.whatsapp_messages
  for each row
  when (new.lease_owner is null
        or old.status is distinct from new.status
        or old.direction is distinct from new.direction
        or (old.metadata ->> 'category') is distinct from (new.metadata ->> 'category'))
  execute function public.tripcast_notify_whatsapp_message();
"""

JOINED = """
drop trigger whatsapp_messages_notify_update on public.whatsapp_messages;
drop trigger whatsapp_messages_notify on public.whatsapp_messages;
create trigger whatsapp_messages_notify
  after insert or update on public.whatsapp_messages
  for each row execute function public.tripcast_notify_whatsapp_message();
"""


def upgrade() -> None:
    op.execute(SPLIT)


def downgrade() -> None:
    op.execute(JOINED)
