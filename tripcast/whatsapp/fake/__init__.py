"""A local fake of the WhatsApp Cloud API for the demo, the tests and the benchmarks.

It validates sends like Meta, answers in Meta's shapes, enforces the throughput,
pair-rate and 24-hour rules, injects faults deterministically, records what it
accepted, and delivers signed status and inbound webhooks.
"""

from tripcast.whatsapp.fake.app import create_app
from tripcast.whatsapp.fake.config import FakeCloudApiConfig, FakeNumber, FakeTemplate
from tripcast.whatsapp.fake.handle import FakeCloudApi
from tripcast.whatsapp.fake.server import run_fake_server, running_fake_cloud_api

__all__ = [
    "FakeCloudApi",
    "FakeCloudApiConfig",
    "FakeNumber",
    "FakeTemplate",
    "create_app",
    "run_fake_server",
    "running_fake_cloud_api",
]
