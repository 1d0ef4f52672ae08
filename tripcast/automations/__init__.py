"""Automation rules turned into jobs (planning) and jobs into actions (execution).

Plain Python over a SQLAlchemy connection: Prefect tasks in ``tripcast.tasks`` wrap these
functions, and flows in ``tripcast.flows`` orchestrate the tasks.
"""
