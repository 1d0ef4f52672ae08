"""Prefect tasks: thin, retryable I/O steps around ``tripcast.automations`` and friends.

Retries are on the decorators and apply to transient infrastructure failures only (a
database connection lost, a server restarting); a bug or bad data fails at once.
"""
