"""Run the business rules in ``dbt_like_sql/`` on DuckDB, streaming Parquet in and out.

Models are plain ``with … select`` files that name their inputs as relations; this runner binds
those names to Parquet files (or Arrow tables), passes values only as bound ``$parameters`` and
writes the result with ``COPY``, so DuckDB can spill to disk and never hands rows to Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

import dbt_like_sql
from reconciliation_assets.engine.cancellation import on_deadline

SQL_DIR = Path(dbt_like_sql.__file__).resolve().parent
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880"


def sql_literal(text: str) -> str:
    """The project's one SQL string quoting, for the few places DuckDB takes no bound parameter
    (SET values, COPY/ATTACH paths); values of the models are always bound parameters."""
    return "'" + text.replace("'", "''") + "'"


def load_model(name: str) -> str:
    """The SQL text of model ``name`` (``dbt_like_sql/<name>.sql``)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def model_params(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The ``$parameters`` a model's SQL names, taken from ``params`` (any engine): a missing one is an
    error, extra ones are left out."""
    wanted = set(_PARAM.findall(sql))
    missing = wanted - params.keys()
    if missing:
        raise KeyError(f"parameters missing for model: {sorted(missing)}")
    return {k: v for k, v in params.items() if k in wanted}


# Sized so that a 10M-row day peaks under 1 GiB for the whole process: DuckDB spills beyond it.
DEFAULT_MEMORY_LIMIT = "512MB"


@dataclass(frozen=True)
class EngineSettings:
    """How much of the machine DuckDB may use; beyond ``memory_limit`` it spills to ``temp_dir``."""

    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int = 2
    temp_dir: str = ".recon_tmp"
    # Hash buckets of ordem_id for the joins over the day's rows (engine/buckets.py): 0 = from the
    # day's size (1 for a small day), N >= 1 = exactly N.
    buckets: int = 0
    # Which engine runs the models (engine/runners.py): "duckdb" (this module) or "spark"
    # (engine/spark_runner.py: the same models translated to Spark SQL).
    engine: str = "duckdb"
    spark_master: str = "local[2]"  # a local session when no Spark Connect server is given
    spark_remote: str = ""  # Spark Connect, e.g. sc://host:15002 (SPARK_REMOTE)
    spark_driver_memory: str = "1g"


class ModelRunner:
    """One DuckDB connection with the macros loaded and the inputs of a step registered."""

    def __init__(self, settings: EngineSettings):
        self.settings = settings
        Path(settings.temp_dir).mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(":memory:")
        self.con.execute(f"SET memory_limit = {sql_literal(settings.memory_limit)}")
        self.con.execute(f"SET threads = {int(settings.threads)}")
        self.con.execute(f"SET temp_directory = {sql_literal(str(settings.temp_dir))}")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET TimeZone = 'UTC'")
        for macro_file in sorted((SQL_DIR / "macros").glob("*.sql")):
            self.con.execute(macro_file.read_text(encoding="utf-8"))
        # At the run's deadline the watchdog interrupts whatever this connection is running.
        self._unregister = on_deadline(self.con.interrupt)

    def __enter__(self) -> ModelRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self._unregister()
        self.con.close()

    def register_parquet(self, relation: str, path: Path | str) -> None:
        """Expose a Parquet file (or glob) as ``relation`` without reading it."""
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {relation} AS SELECT * FROM read_parquet("
            f"{sql_literal(str(path))}, hive_partitioning = false)"
        )

    def register_partitioned_parquet(self, relation: str, folder: Path) -> None:
        """Expose a local hive-partitioned table folder as ``relation``: DuckDB's own Parquet reader
        prunes the partitions a filter on the partition column excludes (path bound, not quoted)."""
        self.con.read_parquet(f"{folder}/*/*.parquet", hive_partitioning=True).create_view(relation)

    def register_arrow(self, relation: str, table: Any) -> None:
        """Expose a small Arrow table or record-batch reader as ``relation``."""
        self.con.register(relation, table)

    def register_model_view(self, model: str, relation: str | None = None) -> None:
        """Expose a parameter-free model as a view, so each reader streams it instead of storing it."""
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {relation or model} AS {load_model(model)}")

    def _bound(self, sql: str, params: dict[str, Any]) -> dict[str, Any]:
        return model_params(sql, params)

    def materialize(
        self, model: str, params: dict[str, Any] | None = None, relation: str | None = None
    ) -> int:
        """Run ``model`` into a temp table named ``relation`` (default: the model name); returns rows."""
        sql = load_model(model)
        relation = relation or model
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {relation} AS {sql}", self._bound(sql, params or {}))
        return self.count(relation)

    def copy_to_parquet(
        self,
        model_or_relation: str,
        path: Path,
        params: dict[str, Any] | None = None,
        order_by: tuple[str, ...] = (),
    ) -> int:
        """Write a model (by name) or an already-registered relation to one Parquet file (sorted by
        ``order_by`` when given); returns rows."""
        path.parent.mkdir(parents=True, exist_ok=True)
        model_file = SQL_DIR / f"{model_or_relation}.sql"
        sql = load_model(model_or_relation) if model_file.exists() else f"SELECT * FROM {model_or_relation}"
        query = f"SELECT * FROM ({sql}) ORDER BY {', '.join(order_by)}" if order_by else sql
        rows = self.con.execute(
            f"COPY ({query}) TO {sql_literal(str(path))} ({PARQUET_OPTIONS})", self._bound(sql, params or {})
        ).fetchall()
        return int(rows[0][0]) if rows else 0

    def count(self, relation: str) -> int:
        # fetchall, not fetchone: a result left unfinished blocks the connection's next register().
        ((count,),) = self.con.execute(f"SELECT count(*) FROM {relation}").fetchall()
        return int(count)

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
        """A small read-only query (aggregates, one-row results) for metadata and checks."""
        return self.con.execute(sql, params or {}).fetchall()

    def query_dicts(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or {})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def copy_model_over_model(
    runner: ModelRunner, model: str, input_model: str, path: Path, params: dict[str, Any] | None = None
) -> int:
    """Write ``model`` to Parquet with its input relation ``input_model`` computed in the same statement
    (a CTE) instead of written to a file and read back: one pass where there were two. Returns rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    inner, outer = load_model(input_model), load_model(model)
    sql = f"WITH {input_model} AS ({inner}) SELECT * FROM ({outer})"
    rows = runner.con.execute(
        f"COPY ({sql}) TO {sql_literal(str(path))} ({PARQUET_OPTIONS})", runner._bound(sql, params or {})
    ).fetchall()
    return int(rows[0][0]) if rows else 0
