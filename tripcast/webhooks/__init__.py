"""WhatsApp webhooks: the receiver that stores deliveries, the ingest that applies them
(receipts, inbound messages, STOP / START), and a live view of a traveller's messages.
"""

from tripcast.webhooks.batch_report import IngestReport
from tripcast.webhooks.follow import follow
from tripcast.webhooks.ingest import IngestPolicy, drain, ingest_once, prune_applied
from tripcast.webhooks.receipts import RetryPolicy
from tripcast.webhooks.receiver import create_app
from tripcast.webhooks.receiver_server import (
    BackgroundReceiver,
    ReceiverConfig,
    config_from_settings,
    run_receiver,
    running_receiver,
)
from tripcast.webhooks.watch import MessageEvent, format_event, watch, watch_events

__all__ = [
    "BackgroundReceiver",
    "IngestPolicy",
    "IngestReport",
    "MessageEvent",
    "ReceiverConfig",
    "RetryPolicy",
    "config_from_settings",
    "create_app",
    "drain",
    "follow",
    "format_event",
    "ingest_once",
    "prune_applied",
    "run_receiver",
    "running_receiver",
    "watch",
    "watch_events",
]
