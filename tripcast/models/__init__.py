"""SQLModel tables, engine and migrations. Importing this package registers every table."""

from tripcast.models.accounts import NotificationPreferences, WhatsAppAccount
from tripcast.models.automation import AutomationRule, ScheduledJob
from tripcast.models.messages import DeliveryLog, WhatsAppMessage
from tripcast.models.standins import AuthUser, Booking, Expense, Trip

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
    "Trip",
    "WhatsAppAccount",
    "WhatsAppMessage",
]
