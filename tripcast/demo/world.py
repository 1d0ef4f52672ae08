"""A seeded world for the demo: travellers across timezones, their trips, budgets,
bookings, preferences and rules, chosen so every outcome the product knows shows up.

Deterministic for a given seed and day; inserted in bulk (executemany per table).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from tripcast.whatsapp.phone import InvalidPhoneNumber, normalize_phone

# (IANA zone, a valid mobile number of that country to vary)
HOMES = (
    ("Europe/Lisbon", "351912345678"),
    ("America/New_York", "12015550123"),
    ("Asia/Tokyo", "819012345678"),
    ("Australia/Sydney", "61412345678"),
    ("America/Sao_Paulo", "5511961234567"),
    ("Europe/Berlin", "4915123456789"),
    ("Asia/Kolkata", "918123456789"),
    ("Europe/London", "447400123456"),
)
DESTINATIONS = ("Porto", "Kyoto", "Lisbon", "Cusco", "Reykjavik", "Marrakesh", "Hanoi")


@dataclass
class World:
    """What the demo needs to know about the world it seeded."""

    users: list[uuid.UUID] = field(default_factory=list)
    phones: dict[uuid.UUID, str] = field(default_factory=dict)
    undeliverable: list[str] = field(default_factory=list)
    chatty: list[str] = field(default_factory=list)  # will write to us during the day
    stoppers: list[str] = field(default_factory=list)  # will answer STOP
    chatty_users: list[uuid.UUID] = field(default_factory=list)
    # Has a WhatsApp username: Meta withholds their number, so their STOP arrives with
    # only their business-scoped user ID (one of the stoppers).
    username_holders: list[str] = field(default_factory=list)


def phone_for(index: int, template: str) -> str:
    """A valid, distinct number of ``template``'s country (varying its last digits)."""
    for attempt in range(50):
        suffix = f"{(index * 7919 + attempt) % 10_000:04d}"
        candidate = template[:-4] + suffix
        try:
            return normalize_phone(candidate)
        except InvalidPhoneNumber:
            continue
    raise RuntimeError(f"no valid number near {template}")


def _traveller(index: int, rng: random.Random, day: date) -> dict[str, Any]:
    zone, template = HOMES[index % len(HOMES)]
    roll = rng.random()
    opt_in = "opted_out" if roll < 0.07 else "pending" if roll < 0.11 else "opted_in"
    return {
        "id": uuid.uuid4(),
        "zone": zone,
        "phone": phone_for(index, template),
        "opt_in": opt_in,
        "verified": rng.random() > 0.03,
        "quiet": rng.random() < 0.3,
        "reminders_off": rng.random() < 0.05,
        "budget": 1000,
        "spent": rng.choice((300, 650, 880, 920, 990, 1040)),
        # Most trips start tomorrow (reminders today); some end today (trip_end rules).
        "start": day + timedelta(days=1) if rng.random() < 0.8 else day - timedelta(days=4),
        "length": rng.choice((3, 6)),
        "digest": rng.random() < 0.15,
        "booking_hours_ago": rng.choice((None, 2, 20, 30)),
        # Rules exist well before the simulated day, so its schedules tick from midnight.
        "created_at": datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=30),
    }


def seed_world(connection: Connection, *, travellers: int, day: date, seed: int = 7) -> World:
    rng = random.Random(seed)
    people = [_traveller(index, rng, day) for index in range(travellers)]
    world = World()
    for person in people:
        world.users.append(person["id"])
        world.phones[person["id"]] = person["phone"]
    opted_in = [p["phone"] for p in people if p["opt_in"] == "opted_in" and p["verified"]]
    world.undeliverable = opted_in[3:8]
    world.chatty = opted_in[10:40]
    by_phone = {p["phone"]: p["id"] for p in people}
    world.chatty_users = [by_phone[phone] for phone in world.chatty]
    world.stoppers = opted_in[40:46]
    world.username_holders = world.stoppers[-1:]
    _insert_people(connection, people, day=day)
    _insert_trips(connection, people, day=day)
    _insert_rules(connection, people)
    _insert_welcome(connection, [by_phone[phone] for phone in world.username_holders])
    return world


def _insert_welcome(connection: Connection, users: list[uuid.UUID]) -> None:
    """A welcome template the application queues for these travellers at midnight: its
    status webhooks carry their number with their BSUID, so tripcast learns the BSUID
    before their later messages arrive without the number."""
    template = {"name": "daily_digest", "language": {"code": "en_US"}}
    _many(
        connection,
        "INSERT INTO whatsapp_messages (user_id, whatsapp_account_id, direction, "
        "message_type, content, status, metadata) SELECT a.user_id, a.id, 'outbound', "
        "'template', 'Welcome to tripcast', 'pending', %(metadata)s::jsonb "
        "FROM whatsapp_accounts a WHERE a.user_id = %(user)s",
        [
            {"user": user, "metadata": json.dumps({"template": template, "category": "utility"})}
            for user in users
        ],
    )


def _many(connection: Connection, sql: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.exec_driver_sql(sql, rows)


def _insert_people(connection: Connection, people: list[dict[str, Any]], *, day: date) -> None:
    _many(
        connection,
        "INSERT INTO auth.users (id, email) VALUES (%(id)s, %(email)s)",
        [{"id": p["id"], "email": f"traveller{i}@example.test"} for i, p in enumerate(people)],
    )
    _many(
        connection,
        (
            "INSERT INTO whatsapp_accounts (user_id, phone_number, country_code, is_verified, "
            "opt_in_status, opted_in_at) VALUES (%(id)s, %(phone)s, %(cc)s, %(verified)s, "
            "%(opt_in)s, %(since)s)"
        ),
        [
            {
                **p,
                "cc": p["zone"].split("/")[0][:2].upper(),
                "since": datetime.combine(day, time(0)).astimezone() - timedelta(days=30),
            }
            for p in people
        ],
    )
    _many(
        connection,
        (
            "INSERT INTO notification_preferences (user_id, timezone, trip_reminders, "
            "quiet_hours_enabled, quiet_hours_start, quiet_hours_end) VALUES (%(id)s, %(zone)s, "
            "%(reminders)s, %(quiet)s, '21:00', '07:00')"
        ),
        [{**p, "reminders": not p["reminders_off"]} for p in people],
    )


def _insert_trips(connection: Connection, people: list[dict[str, Any]], *, day: date) -> None:
    for p in people:
        p["trip"] = uuid.uuid4()
    _many(
        connection,
        (
            "INSERT INTO trips (id, user_id, title, destination, start_date, end_date, "
            "budget_amount, status) VALUES (%(trip)s, %(id)s, %(title)s, %(title)s, %(start)s, "
            "%(end)s, %(budget)s, 'upcoming')"
        ),
        [
            {
                **p,
                "title": DESTINATIONS[i % len(DESTINATIONS)],
                "end": day if p["start"] < day else p["start"] + timedelta(days=p["length"]),
            }
            for i, p in enumerate(people)
        ],
    )
    _many(
        connection,
        (
            "INSERT INTO expenses (trip_id, user_id, amount, category) "
            "VALUES (%(trip)s, %(id)s, %(spent)s, 'lodging')"
        ),
        people,
    )
    midnight = datetime.combine(day, time(0), tzinfo=UTC)
    _many(
        connection,
        (
            "INSERT INTO bookings (trip_id, user_id, booking_type, status, created_at) "
            "VALUES (%(trip)s, %(id)s, 'hotel', 'pending', %(created)s)"
        ),
        [
            {**p, "created": midnight - timedelta(hours=p["booking_hours_ago"])}
            for p in people
            if p["booking_hours_ago"] is not None
        ],
    )


def _rule(
    person: dict[str, Any],
    trigger: str,
    config: dict[str, Any],
    action: str,
    action_config: dict[str, Any],
) -> dict[str, Any]:
    return {
        "user_id": person["id"],
        "name": f"{trigger} → {action}",
        "trigger_type": trigger,
        "trigger_config": json.dumps(config),
        "action_type": action,
        "action_config": json.dumps(action_config),
        "created_at": person["created_at"],
    }


def _insert_rules(connection: Connection, people: list[dict[str, Any]]) -> None:
    rules = []
    for index, p in enumerate(people):
        send_at = "21:30" if p["quiet"] and index % 2 else "09:00"
        rules.append(
            _rule(
                p,
                "trip_start",
                {"days_before": 1, "send_at": send_at},
                "send_whatsapp",
                {"template": "trip_reminder", "parameters": ["{trip.title}", "{trip.start_date}"]},
            )
        )
        rules.append(
            _rule(
                p,
                "budget_exceeded",
                {"threshold_percent": 90},
                "send_whatsapp",
                {"template": "budget_alert", "parameters": ["{trip.title}", "{budget.percent}"]},
            )
        )
        rules.append(
            _rule(
                p,
                "booking_pending",
                {"hours": 24},
                "send_whatsapp",
                {"template": "booking_nudge", "parameters": ["{booking.type}"]},
            )
        )
        rules.append(
            _rule(
                p,
                "trip_end",
                {"days_after": 0, "send_at": "20:00"},
                "update_trip",
                {"fields": {"status": "completed"}},
            )
        )
        if p["digest"]:
            rules.append(
                _rule(
                    p,
                    "schedule",
                    {"cron": "0 8 * * *", "timezone": p["zone"]},
                    "send_whatsapp",
                    {"template": "daily_digest", "text": "Good morning! Your day's plan is ready."},
                )
            )
    _many(
        connection,
        (
            "INSERT INTO automation_rules (user_id, name, trigger_type, trigger_config, "
            "action_type, action_config, created_at) VALUES (%(user_id)s, %(name)s, "
            "%(trigger_type)s, %(trigger_config)s, %(action_type)s, %(action_config)s, "
            "%(created_at)s)"
        ),
        rules,
    )
