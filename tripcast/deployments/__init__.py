"""Deployments: the catalog shared by ``prefect.yaml`` and ``tripcast serve``."""
