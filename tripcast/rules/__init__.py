"""Domain rules of tripcast as plain functions and pydantic models.

No Prefect, database or HTTP imports here: tasks wrap these with I/O, and set-based SQL
mirrors them where documented (dedupe keys, status ranks). Modules:

- ``triggers`` / ``actions`` / ``rule``: validated ``trigger_config`` / ``action_config``;
- ``placeholders``: ``{trip.title}``-style placeholders and their rendering;
- ``categories``: notification categories and the preference gate;
- ``quiet_hours``: when a traveller's quiet window ends;
- ``occurrences``: local send instants, cron ticks, dedupe keys;
- ``statuses``: message receipt and job status transitions;
- ``consent``: STOP/START keywords and account eligibility;
- ``window``: the WhatsApp 24-hour customer service window.
"""
