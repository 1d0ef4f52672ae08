"""Recording each message's pricing from its status receipts, in the ingest's transaction.

Runs after ``apply_receipts``: a receipt's wamid then names its message (a send in doubt
has just had its wamid recorded). The first priced receipt of a message wins and the row
is never changed: duplicate receipts, later statuses and concurrent ingesters insert
nothing (``ON CONFLICT DO NOTHING``). A receipt kept unmatched is priced when a retry
matches it, since the kept copy carries the status as Meta sent it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from tripcast.costs.pricing import Pricing, destination_country, pricing_of
from tripcast.webhooks.extract import RECEIPT_RANK, Receipt

UNPRICED = """
SELECT m.id, m.external_id, a.phone_number
FROM public.whatsapp_messages m JOIN public.whatsapp_accounts a ON a.id = m.whatsapp_account_id
WHERE m.external_id = ANY(%(wamids)s) AND m.direction = 'outbound'
  AND NOT EXISTS (SELECT FROM public.whatsapp_message_pricing p WHERE p.message_id = m.id)
"""
INSERT = """
INSERT INTO public.whatsapp_message_pricing
  (message_id, wamid, billable, pricing_model, category, pricing_type, conversation_id,
   conversation_origin, conversation_expires_at, destination_country, priced_at)
SELECT * FROM unnest(%(ids)s::uuid[], %(wamids)s::text[], %(billable)s::boolean[],
  %(models)s::text[], %(categories)s::text[], %(types)s::text[], %(conversations)s::text[],
  %(origins)s::text[], %(expires)s::timestamptz[], %(countries)s::text[], %(at)s::timestamptz[])
ON CONFLICT (message_id) DO NOTHING
"""


def record_pricing(connection: Connection, receipts: Sequence[Receipt]) -> int:
    """Store the pricing of messages not priced yet; how many rows were added."""
    first: dict[str, tuple[Receipt, Pricing]] = {}
    for receipt in sorted(receipts, key=lambda r: (r.at, RECEIPT_RANK[r.status])):
        if receipt.wamid not in first and (priced := pricing_of(receipt.raw)) is not None:
            first[receipt.wamid] = (receipt, priced)
    if not first:
        return 0
    rows = connection.exec_driver_sql(UNPRICED, {"wamids": list(first)}).all()
    if not rows:
        return 0
    columns: dict[str, list[object]] = {key: [] for key in _KEYS}
    for message_id, wamid, phone_number in rows:
        receipt, priced = first[wamid]
        values = (
            message_id, wamid, priced.billable, priced.pricing_model, priced.category,
            priced.pricing_type, priced.conversation_id, priced.conversation_origin,
            priced.conversation_expires_at, destination_country(phone_number), receipt.at,
        )  # fmt: skip
        for key, value in zip(_KEYS, values, strict=True):
            columns[key].append(value)
    return connection.exec_driver_sql(INSERT, columns).rowcount


_KEYS = (
    "ids", "wamids", "billable", "models", "categories", "types", "conversations", "origins",
    "expires", "countries", "at",
)  # fmt: skip
