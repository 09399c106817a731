"""The one place a step gets its engine: ``open_runner(settings)`` (``RECON_ENGINE=duckdb|spark``).

Both runners take the same calls (register_parquet, register_arrow, register_model_view,
materialize, copy_to_parquet, count, query, query_dicts) and run the same models of
``dbt_like_sql/``; the steps (validation, snapshot, divergences, breaks) do not know which one runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner

if TYPE_CHECKING:
    from reconciliation_assets.engine.spark_runner import SparkModelRunner

ENGINES = ("duckdb", "spark")


def open_runner(settings: EngineSettings) -> ModelRunner | SparkModelRunner:
    """A runner of the configured engine (use it as a context manager)."""
    if settings.engine == "spark":
        # Imported here: PySpark and sqlglot are only needed when Spark is chosen.
        from reconciliation_assets.engine.spark_runner import SparkModelRunner

        return SparkModelRunner(settings)
    if settings.engine != "duckdb":
        raise ValueError(f"motor desconhecido: {settings.engine!r} (use duckdb ou spark)")
    return ModelRunner(settings)
