"""SQLModel tables, engine and migrations. Importing this package registers every table."""

from tripcast.models.accounts import NotificationPreferences, WhatsAppAccount
from tripcast.models.automation import AutomationRule, ScheduledJob
from tripcast.models.dispatch import SendPacing
from tripcast.models.messages import DeliveryLog, WhatsAppMessage
from tripcast.models.pricing import WhatsAppMessagePricing
from tripcast.models.senders import WhatsAppSender
from tripcast.models.standins import AuthUser, Booking, Expense, Trip
from tripcast.models.templates import WhatsAppTemplate
from tripcast.models.webhooks import WebhookDelivery

SEED_TABLES = (
    "whatsapp_accounts",
    "whatsapp_messages",
    "notification_preferences",
    "automation_rules",
    "scheduled_jobs",
    "delivery_logs",
)

__all__ = [
    "SEED_TABLES",
    "AuthUser",
    "AutomationRule",
    "Booking",
    "DeliveryLog",
    "Expense",
    "NotificationPreferences",
    "ScheduledJob",
    "SendPacing",
    "Trip",
    "WebhookDelivery",
    "WhatsAppAccount",
    "WhatsAppMessage",
    "WhatsAppMessagePricing",
    "WhatsAppSender",
    "WhatsAppTemplate",
]
