"""``tripcast demo``: a simulated day of the whole product on this machine.

Embedded PostgreSQL (its own home, recreated each run), the local fake Cloud API in a
subprocess, the webhook receiver with its ingest in this process, a seeded world, then
the minute sweep (the flow, as ``tripcast demo`` passes it) once per simulated hour
while travellers reply, say STOP and START, and receipts flow back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from tripcast.demo.senders import SenderShow, add_numbers
from tripcast.demo.summary import DemoSummary, read_summary
from tripcast.demo.templates import DEMO_TEMPLATES, TemplatePause, sync_catalog
from tripcast.demo.world import World, seed_world
from tripcast.webhooks.receiver_server import (
    BackgroundReceiver,
    ReceiverConfig,
    ingest_beside,
    running_receiver,
)
from tripcast.whatsapp.fake import FakeCloudApi, FakeCloudApiConfig, running_fake_cloud_api

APP_SECRET = "demo-app-secret"
VERIFY_TOKEN = "demo-verify-token"
ACCESS_TOKEN = "demo-access-token"


@dataclass(frozen=True)
class DemoOptions:
    home: Path
    travellers: int = 300
    hours: int = 24
    step_hours: int = 2  # one sweep per step; occurrences due in between go at the next
    latency_seconds: float = 0.05
    # A business on Meta's upgraded throughput tier; the fake enforces the same limit.
    send_rate: float = 400.0


@dataclass
class DemoResult:
    summary: DemoSummary
    world: World
    database_home: Path
    prefect_home: Path
    day: datetime


Progress = Callable[[str], None]
# The command passes the minute-sweep flow: Prefect stays in the orchestration layer.
Sweep = Callable[[datetime], dict[str, dict[str, int]]]


def prepare_database(home: Path) -> Engine:
    """A fresh ``tripcast`` database on the demo's own embedded server, migrated."""
    from tripcast.models import migrate
    from tripcast.models.embedded import embedded_server, embedded_url
    from tripcast.models.engine import create_db_engine

    server = embedded_server(home)
    server.psql('DROP DATABASE IF EXISTS "tripcast" WITH (FORCE);')
    engine = create_db_engine(embedded_url(home))
    migrate.upgrade(engine)
    return engine


def configure_environment(options: DemoOptions, *, fake_url: str, phone_number_id: str) -> None:
    """Point tripcast's settings at the demo's own database and services."""
    from tripcast.models.engine import get_engine
    from tripcast.settings import get_settings

    prefect_home = options.home / "prefect"
    prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "TRIPCAST_HOME": str(options.home),
            "TRIPCAST_WHATSAPP_API_URL": fake_url,
            "TRIPCAST_WHATSAPP_PHONE_NUMBER_ID": phone_number_id,
            "TRIPCAST_WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "TRIPCAST_WHATSAPP_APP_SECRET": APP_SECRET,
            "TRIPCAST_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID": FakeCloudApiConfig().business_account_id,
            "PREFECT_HOME": str(prefect_home),
        }
    )
    os.environ.pop("TRIPCAST_DATABASE_URL", None)
    get_settings.cache_clear()
    get_engine.cache_clear()


@contextmanager
def services(
    engine: Engine, world: World, options: DemoOptions
) -> Iterator[tuple[FakeCloudApi, BackgroundReceiver]]:
    """The fake Cloud API (its own process) and the receiver + ingest (threads here)."""
    url = engine.url.render_as_string(hide_password=False)
    receiver_config = ReceiverConfig(
        database_url=url, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN
    )
    with running_receiver(receiver_config) as receiver, ingest_beside(url, enabled=True):
        config = FakeCloudApiConfig(
            access_token=ACCESS_TOKEN,
            app_secret=APP_SECRET,
            webhook_url=receiver.url,
            latency_seconds=options.latency_seconds,
            undeliverable_numbers=world.undeliverable,
            username_numbers=world.username_holders,
            templates=DEMO_TEMPLATES,
        )
        with running_fake_cloud_api(config, in_subprocess=True) as fake:
            yield fake, receiver


def traveller_moments(day: datetime, world: World) -> dict[int, list[tuple[str, str]]]:
    """Who writes to us at which simulated hour: replies, STOPs, one START."""
    return {
        10: [(phone, "Thanks! Can't wait 🙂") for phone in world.chatty],
        12: [(phone, "STOP") for phone in world.stoppers],
        15: [(world.stoppers[0], "START")] if world.stoppers else [],
    }


def receipts_at(hour: int, last_hour: int) -> list[str]:
    """Which receipts WhatsApp reports for messages sent at ``hour``: in the evening
    travellers stop reading, and the day's last messages are not even delivered yet."""
    if hour >= last_hour:
        return ["sent"]
    if hour >= last_hour - 4:
        return ["sent", "delivered"]
    return ["sent", "delivered", "read"]


def run_demo(options: DemoOptions, *, progress: Progress, sweep: Sweep) -> DemoResult:
    """The simulated day; ``sweep`` runs the minute sweep at a simulated moment."""
    day = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
    progress("starting the embedded PostgreSQL and migrating")
    engine = prepare_database(options.home)
    with engine.begin() as connection:
        world = seed_world(connection, travellers=options.travellers, day=day.date())
    progress(f"seeded {options.travellers} travellers, their trips, budgets and rules")
    deferrals = 0
    with services(engine, world, options) as (fake, _receiver):
        configure_environment(
            options,
            fake_url=fake.base_url,
            phone_number_id=fake.phone_number_id,
        )
        progress(f"template catalog synced: {sync_catalog(engine)}")
        add_numbers(engine, default=fake.phone_number_id)
        show = SenderShow(default=fake.phone_number_id)
        pause = TemplatePause()
        moments = traveller_moments(day, world)
        for hour in range(0, options.hours + 1, options.step_hours):
            now = day + timedelta(hours=hour)
            fake.set_now(now)
            fake.set_config(webhook_statuses=receipts_at(hour, options.hours))
            for moment in range(hour - options.step_hours + 1, hour + 1):
                for phone, text in moments.get(moment, []):
                    fake.send_inbound(phone, text)
            if (said := pause.before_sweep(hour, fake, engine)) is not None:
                progress(f"{now:%H:%M} UTC: {said}")
            if (said := show.before_sweep(hour, fake, engine)) is not None:
                progress(f"{now:%H:%M} UTC: {said}")
            result = sweep(now)
            pause.after_sweep(hour, engine, now)
            deferrals += result["jobs"].get("pending:quiet_hours", 0)
            fake.wait_for_webhooks(timeout=30)
            progress(f"{now:%H:%M} UTC: {_line(result)}")
        _settle(engine)
    return DemoResult(
        summary=read_summary(
            engine,
            deferrals=deferrals,
            template_pause=pause.outcome(engine),
            senders=show.outcome(engine),
        ),
        world=world,
        database_home=options.home,
        prefect_home=Path(os.environ.get("PREFECT_HOME", "~/.prefect")),
        day=day,
    )


def _line(result: dict[str, dict[str, int]]) -> str:
    jobs = sum(result["jobs"].values())
    sent = result["messages"].get("sent", 0)
    return f"{jobs} jobs, {sent} messages sent"


def _settle(engine: Engine) -> None:
    """Apply every stored webhook delivery before the summary is read."""
    from tripcast.webhooks.ingest import drain

    drain(engine)
