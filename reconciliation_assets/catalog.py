"""The four published tables as a SQL catalog (Athena DDL, Glue Data Catalog) sees them.

One source of truth for the columns: the column lists of ``schemas.py`` (the ones the Dagster UI
shows), mapped to Hive types here. The Athena DDL (``deploy/athena_ddl.py``) and the Glue
registration (``resources/glue.py``) both read :data:`TABLES`, and a test compares these types with
the Arrow schema of the Parquet the job really writes (:func:`hive_type_of_arrow`), so a column
added to a SQL model without its schema entry fails before an analyst's query does.

Type notes (what the Parquet holds, DuckDB's writer):

* ``decimal(18,2)`` is stored as INT64, ``decimal(19,2)`` and ``decimal(38,2)`` as fixed-length
  byte arrays; Hive/Athena ``decimal(p,s)`` reads both physical forms.
* timestamps are INT64 microseconds with ``isAdjustedToUTC=true``; Athena's ``timestamp`` reads
  them as UTC instants (at millisecond precision). Nanoseconds or INT96 would be misread by some
  engines, so :func:`hive_type_of_arrow` refuses them rather than map them silently.
* the partition column ``data_referencia`` is not in the files: it comes from the folder name
  ``data_referencia=YYYY-MM-DD`` and is typed ``date`` (partition projection of type ``date``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import dagster as dg
import pyarrow as pa

from reconciliation_assets import schemas

PARTITION_KEY = "data_referencia"
PARTITION_TYPE = "date"
PARTITION_FORMAT = "yyyy-MM-dd"
DEFAULT_RANGE_START = "2024-01-01"  # the default first daily partition (partitions.py)

SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

# schemas.py kinds -> Hive/Glue types. Timestamps are UTC instants in every table.
_KIND_TYPES = {
    "string": "string",
    "date": "date",
    "int64": "bigint",
    "int32": "int",
    "double": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "timestamp(UTC)": "timestamp",
}
_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str = ""


@dataclass(frozen=True)
class CatalogTable:
    """One published table: its name (also its folder under the output) and its columns."""

    name: str
    description: str
    columns: tuple[Column, ...]

    def location(self, output_uri: str) -> str:
        """``<output>/<table>/``: the table's folder, with the trailing slash Athena and Glue expect."""
        return f"{output_uri.rstrip('/')}/{self.name}/"

    def partition_location(self, output_uri: str, data_referencia: str) -> str:
        return f"{self.location(output_uri)}{PARTITION_KEY}={data_referencia}/"

    def parameters(self, output_uri: str, range_start: str = DEFAULT_RANGE_START) -> dict[str, str]:
        """Table properties: Parquet classification and partition projection on ``data_referencia``.

        With projection Athena computes the partitions from the template (no MSCK REPAIR, no
        partition API calls at query time); a wrong template returns zero rows silently, so the
        template is built from the same :meth:`partition_location` the registration uses.
        """
        return {
            "classification": "parquet",
            "projection.enabled": "true",
            f"projection.{PARTITION_KEY}.type": "date",
            f"projection.{PARTITION_KEY}.format": PARTITION_FORMAT,
            f"projection.{PARTITION_KEY}.range": f"{range_start},NOW",
            f"projection.{PARTITION_KEY}.interval": "1",
            f"projection.{PARTITION_KEY}.interval.unit": "DAYS",
            "storage.location.template": self.partition_location(output_uri, "${" + PARTITION_KEY + "}"),
        }


def hive_type(kind: str) -> str:
    """The Hive/Glue type of a ``schemas.py`` column kind (``decimal(18,2)`` stays as written)."""
    if kind in _KIND_TYPES:
        return _KIND_TYPES[kind]
    match = _DECIMAL.match(kind.replace(" ", ""))
    if match:
        return f"decimal({match.group(1)},{match.group(2)})"
    raise ValueError(f"tipo de coluna sem equivalente Hive: {kind!r}")


def hive_type_of_arrow(arrow_type: pa.DataType) -> str:
    """The Hive/Glue type an engine needs to read a Parquet column of ``arrow_type`` correctly."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_date32(arrow_type):
        return "date"
    if pa.types.is_int64(arrow_type):
        return "bigint"
    if pa.types.is_int32(arrow_type):
        return "int"
    if pa.types.is_float64(arrow_type):
        return "double"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        if arrow_type.unit not in ("ms", "us") or arrow_type.tz not in ("UTC", "+00:00"):
            raise ValueError(
                f"timestamp {arrow_type} não é lido como instante UTC pelo Athena (use µs ou ms, UTC)"
            )
        return "timestamp"
    raise ValueError(f"tipo Arrow sem equivalente Hive: {arrow_type}")


def _table(name: str, description: str, schema: dg.TableSchema) -> CatalogTable:
    columns = tuple(Column(c.name, hive_type(c.type), c.description or "") for c in schema.columns)
    return CatalogTable(name, description, columns)


TABLES: tuple[CatalogTable, ...] = (
    _table(
        "divergencias",
        "Uma linha por divergência entre o arquivo do fornecedor e a base interna (SPEC 5.1).",
        schemas.DIVERGENCIAS,
    ),
    _table(
        "resumo_conciliacao",
        "Uma linha por data: contagens, taxa de divergência, prazos e o controle de saldo (SPEC 5.2).",
        schemas.RESUMO,
    ),
    _table(
        "quarentena",
        "Uma linha por linha do arquivo recusada na validação, com o motivo (SPEC 5.3).",
        schemas.QUARENTENA,
    ),
    _table(
        "pendencias",
        "Uma linha por pendência (ordem_id, tipo_divergencia) aberta ou resolvida na data (SPEC 5.4).",
        schemas.PENDENCIAS,
    ),
)
TABLE_NAMES = tuple(t.name for t in TABLES)
