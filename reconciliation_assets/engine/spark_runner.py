"""Run the same business rules on Spark: the ``ModelRunner`` interface over a Spark session.

Every model of ``dbt_like_sql/`` runs as Spark SQL translated from DuckDB's dialect
(``spark_sql.py``); this module holds what is Spark's own, in one place:

- the session: local (``local[2]`` in tests) or Spark Connect (``SPARK_REMOTE`` -> ``spark_remote``);
- ``nfc_normalize`` (no Spark built-in): a vectorised Arrow function (``pyarrow.compute.utf8_normalize``),
  one call per batch of rows, never a Python loop per row;
- reading Parquet (``spark.read.parquet``) and writing it: Spark writes a folder of parts, which are
  streamed, in order, into the one Parquet file the step publishes, with the DuckDB engine's schema
  (every column nullable, timestamps UTC microseconds) and its writer settings (zstd, 122,880-row
  groups), so publication, checks and manifests downstream are the same whichever engine ran.

File reading and line splitting stay where they are for both engines: the day's CSV files are
staged by ``ingest.py``/``lines.py`` (Arrow, engine-neutral) into ``linhas.parquet``, which Spark
reads like DuckDB does. The hash buckets of ``buckets.py`` are a DuckDB execution strategy: on
Spark each model runs once over the whole day (Spark partitions and shuffles itself) and the
published rows are sorted by a portable key.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from reconciliation_assets.engine.cancellation import on_deadline
from reconciliation_assets.engine.spark_sql import model_to_spark, to_spark
from reconciliation_assets.engine.sql_models import SQL_DIR, EngineSettings, model_params

ROW_GROUP_SIZE = 122_880

_LOCK = threading.Lock()
_SESSIONS: dict[tuple[str, str], Any] = {}


def _allow_pyspark() -> None:
    """Make pyspark importable in a process where checks/quality.py marked it absent.

    That mark keeps Great Expectations and pandera off their Spark back-ends: they probe pyspark when
    imported, which costs seconds and, in a run worker launched by the daemon, ended the process.
    Both are imported here first, while pyspark is still absent, so their probes have concluded
    "no Spark"; only then is the mark lifted for this engine.
    """
    if "pyspark" in sys.modules and sys.modules["pyspark"] is None:
        import great_expectations  # noqa: F401
        import pandera.polars  # noqa: F401

        del sys.modules["pyspark"]


def spark_session(settings: EngineSettings) -> Any:
    """The process's Spark session for ``settings`` (created once: a JVM start costs seconds)."""
    _allow_pyspark()
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import arrow_udf

    key = (settings.spark_remote, settings.spark_master)
    with _LOCK:
        session = _SESSIONS.get(key)
        if session is not None:
            return session
        # The Python workers of the NFC function run this interpreter (it has pyarrow) when Spark runs
        # on this machine: a local session, or a Spark Connect server it starts (SPARK_REMOTE=local[…]).
        # A remote cluster's executors use their own Python (docs/deploy.md §11).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        if settings.spark_remote:
            builder = SparkSession.builder.remote(settings.spark_remote)
        else:
            builder = (
                SparkSession.builder.master(settings.spark_master)
                .appName("recon-fornecedor")
                .config("spark.driver.memory", settings.spark_driver_memory)
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", str(max(2, settings.threads * 2)))
                .config("spark.local.dir", str(Path(settings.temp_dir).resolve()))
            )
        builder = (
            builder.config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "true")
            .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        )
        session = builder.getOrCreate()
        if not settings.spark_remote:
            session.sparkContext.setLogLevel("ERROR")

        # A scalar Arrow function: one call per batch of rows (Spark 4.1+). Defined here, not at module
        # level, so that it is shipped to the executors by value: they need pyarrow, not this project.
        def nfc(values: pa.Array) -> pa.Array:
            import pyarrow.compute as pc

            return pc.utf8_normalize(values, "NFC")

        session.udf.register("nfc_normalize", arrow_udf(nfc, "string"))  # type: ignore[call-overload]
        _SESSIONS[key] = session
        return session


def _as_spark_value(value: Any) -> Any:
    """A parameter as DuckDB reads it: a naive datetime is UTC there (the runner's TimeZone), while
    PySpark would take it in the Python process's local zone."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _arrow_type(t: pa.DataType) -> pa.DataType:
    """Spark's Parquet types as the DuckDB engine writes them."""
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC") if t.tz is not None else pa.timestamp("us")
    if pa.types.is_large_string(t):
        return pa.string()
    return t


def published_schema(schema: pa.Schema) -> pa.Schema:
    """Every column nullable (DuckDB writes all as optional), timestamps in UTC microseconds."""
    return pa.schema([pa.field(f.name, _arrow_type(f.type), nullable=True) for f in schema])


class SparkModelRunner:
    """The ``ModelRunner`` interface on Spark: relations are temp views of one session."""

    def __init__(self, settings: EngineSettings):
        Path(settings.temp_dir).mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.spark = spark_session(settings)
        self.scratch = Path(settings.temp_dir).resolve() / f"spark-{uuid.uuid4().hex[:12]}"
        self._views: set[str] = set()
        self._cached: list[Any] = []
        self._unregister = on_deadline(self._cancel)

    def _cancel(self) -> None:
        if self.settings.spark_remote:
            self.spark.interruptAll()
        else:
            self.spark.sparkContext.cancelAllJobs()

    def __enter__(self) -> SparkModelRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self._unregister()
        for df in self._cached:
            df.unpersist()
        for view in self._views:
            self.spark.catalog.dropTempView(view)
        shutil.rmtree(self.scratch, ignore_errors=True)

    # Relations -----------------------------------------------------------------------------------
    def _view(self, relation: str, df: Any) -> None:
        df.createOrReplaceTempView(relation)
        self._views.add(relation)

    def register_parquet(self, relation: str, path: Path | str) -> None:
        df = self.spark.read.parquet(str(path))
        if not self.settings.spark_remote:
            # A work file is often one row group, which Spark reads as one task: spread it over the
            # session's cores (the models never depend on the order rows are read in).
            cores = int(self.spark.sparkContext.defaultParallelism)
            if df.rdd.getNumPartitions() < cores:
                df = df.repartition(cores)
        self._view(relation, df)

    def register_partitioned_parquet(self, relation: str, folder: Path) -> None:
        self._view(relation, self.spark.read.option("basePath", str(folder)).parquet(f"{folder}/*/*.parquet"))

    def register_arrow(self, relation: str, table: Any) -> None:
        if isinstance(table, pa.RecordBatchReader):
            table = table.read_all()
        self._view(relation, self.spark.createDataFrame(table))

    def register_model_view(self, model: str, relation: str | None = None) -> None:
        self._view(relation or model, self.spark.sql(model_to_spark(model)))

    # Running -------------------------------------------------------------------------------------
    def _df(self, model_or_relation: str, params: dict[str, Any] | None) -> Any:
        model_file = SQL_DIR / f"{model_or_relation}.sql"
        if model_file.exists():
            sql = model_file.read_text(encoding="utf-8")
            return self.spark.sql(model_to_spark(model_or_relation), args=self._bound(sql, params or {}))
        return self.spark.table(model_or_relation)

    @staticmethod
    def _bound(sql: str, params: dict[str, Any]) -> dict[str, Any]:
        return {k: _as_spark_value(v) for k, v in model_params(sql, params).items()}

    def materialize(
        self, model: str, params: dict[str, Any] | None = None, relation: str | None = None
    ) -> int:
        df = self._df(model, params).cache()
        self._cached.append(df)
        self._view(relation or model, df)
        return int(df.count())

    def copy_to_parquet(
        self,
        model_or_relation: str,
        path: Path,
        params: dict[str, Any] | None = None,
        order_by: tuple[str, ...] = (),
    ) -> int:
        """Write a model or relation to one Parquet file (sorted by ``order_by`` when given); returns rows."""
        df = self._df(model_or_relation, params)
        if order_by:
            df = df.orderBy(*order_by)
        return self.write_single_parquet(df, path)

    def write_single_parquet(self, df: Any, path: Path) -> int:
        """Spark writes its parts; they are streamed, in part order, into ``path`` (one file)."""
        folder = self.scratch / f"saida-{uuid.uuid4().hex[:12]}"
        df.write.mode("overwrite").option("compression", "zstd").parquet(str(folder))
        parts = sorted(folder.glob("part-*.parquet"))
        if parts:
            schema = published_schema(pq.read_schema(parts[0]))
        else:
            from pyspark.sql.pandas.types import to_arrow_schema

            schema = published_schema(to_arrow_schema(df.schema))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        rows = 0
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for part in parts:
                table = pq.read_table(part)
                if table.num_rows:
                    writer.write_table(table.cast(schema), row_group_size=ROW_GROUP_SIZE)
                    rows += table.num_rows
        os.replace(tmp, path)
        shutil.rmtree(folder, ignore_errors=True)
        return rows

    def count(self, relation: str) -> int:
        return int(self.spark.table(relation).count())

    def _collect(self, sql: str, params: dict[str, Any] | None) -> pa.Table:
        args = {k: _as_spark_value(v) for k, v in (params or {}).items()}
        return self.spark.sql(to_spark(sql), args=args).toArrow()

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
        table = self._collect(sql, params)
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        return list(zip(*columns, strict=True)) if columns else []

    def query_dicts(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._collect(sql, params).to_pylist()
