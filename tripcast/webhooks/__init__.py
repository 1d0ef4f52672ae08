"""WhatsApp webhooks: the receiver that stores deliveries, the ingest that applies them
(receipts, inbound messages, STOP / START), and a live view of a traveller's messages.
"""

from tripcast.webhooks.ingest import IngestPolicy, drain, ingest_once
from tripcast.webhooks.receipts import RetryPolicy
from tripcast.webhooks.report import IngestReport

__all__ = ["IngestPolicy", "IngestReport", "RetryPolicy", "drain", "ingest_once"]
