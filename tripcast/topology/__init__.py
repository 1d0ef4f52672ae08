"""The production topology: a Prefect server, the ``tripcast`` work pool, its deployments,
workers, the webhook receiver and the dispatcher, and the checks that say in one line
what is wrong with a setup before anything runs.
"""
