"""Dagster resources: every piece of configuration enters the project through these."""
