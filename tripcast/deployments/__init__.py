"""Deployments: the catalog shared by ``prefect.yaml`` and ``tripcast serve``, and what
else is said to the Prefect server: which server (``api_url``), the automation that
crashes dead runs (``zombies``) and starting a deployment's run (``runs``)."""
