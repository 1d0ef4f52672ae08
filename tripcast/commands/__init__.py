"""Sub-commands of the ``tripcast`` command line, one module per concern.

Each module has ``register(commands)`` adding its parsers, whose ``handler`` returns an
exit code. Heavy imports (Prefect, the HTTP stack) happen inside handlers, so
``tripcast --help`` and ``tripcast db ...`` stay fast.
"""
