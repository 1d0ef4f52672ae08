"""Prefect flows, one per automation. Each reads as a recipe of task calls."""
