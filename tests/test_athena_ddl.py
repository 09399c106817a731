"""The Athena DDL shipped in deploy/athena/ is the generator's output, and the generator's columns are
the Parquet the job really writes: one source of truth, checked from both ends."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deploy import athena_ddl
from reconciliation_assets.catalog import TABLES, hive_type_of_arrow
from tests.published_output import published_output  # noqa: F401

TABLE_NAMES = ["divergencias", "resumo_conciliacao", "quarentena", "pendencias"]


def test_the_checked_in_sql_files_are_exactly_what_the_generator_writes():
    files = athena_ddl.rendered()
    assert sorted(p.name for p in athena_ddl.OUT_DIR.glob("*.sql")) == sorted(f"{t}.sql" for t in TABLE_NAMES)
    for path, text in files.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name}: rode python -m deploy.athena_ddl"
    assert athena_ddl.main(["--check"]) == 0


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_each_ddl_has_the_partition_projection_and_the_location_of_its_table(table):
    text = (athena_ddl.OUT_DIR / f"{table}.sql").read_text(encoding="utf-8")
    assert f"CREATE EXTERNAL TABLE IF NOT EXISTS `{table}` (\n" in text
    tail = text[text.index("\n)\nCOMMENT ") :].splitlines()[3:]
    assert [" ".join(line.split()) for line in tail] == [
        "PARTITIONED BY (`data_referencia` date)",
        "STORED AS PARQUET",
        f"LOCATION 's3://${{bucket}}/${{prefix}}/{table}/'",
        "TBLPROPERTIES (",
        "'classification' = 'parquet',",
        "'projection.enabled' = 'true',",
        "'projection.data_referencia.type' = 'date',",
        "'projection.data_referencia.format' = 'yyyy-MM-dd',",
        "'projection.data_referencia.range' = '2024-01-01,NOW',",
        "'projection.data_referencia.interval' = '1',",
        "'projection.data_referencia.interval.unit' = 'DAYS',",
        f"'storage.location.template' = 's3://${{bucket}}/${{prefix}}/{table}/data_referencia=${{data_referencia}}/'",
        ");",
    ]


def test_the_reserved_column_timestamp_is_backquoted_and_the_money_types_are_exact():
    text = (athena_ddl.OUT_DIR / "divergencias.sql").read_text(encoding="utf-8")
    columns = text[text.index("(\n") + 2 : text.index("\n)\n")].splitlines()
    assert [line.split()[:2] for line in columns] == [
        ["`fornecedor_id`", "string"],
        ["`ordem_id`", "string"],
        ["`nome`", "string"],
        ["`ativo_id`", "string"],
        ["`data`", "date"],
        ["`data_base`", "date"],
        ["`valor_csv`", "decimal(18,2)"],
        ["`valor_base`", "decimal(18,2)"],
        ["`valor_diferenca`", "decimal(19,2)"],
        ["`tipo_divergencia`", "string"],
        ["`detalhes`", "string"],
        ["`severidade`", "string"],
        ["`hash_linha`", "string"],
        ["`timestamp`", "timestamp"],
        ["`job_id`", "string"],
    ]


def test_the_generator_columns_are_the_schema_of_every_published_parquet(published_output):  # noqa: F811
    """Names, order and types of each table equal the Arrow schema of each date's real file; the
    timestamps are INT64 microseconds adjusted to UTC, which Athena's ``timestamp`` reads as UTC."""
    by_name = {t.name: t for t in TABLES}
    assert list(by_name) == TABLE_NAMES
    for table in TABLE_NAMES:
        expected = [(c.name, c.type) for c in by_name[table].columns]
        for day in published_output.dates:
            path = published_output.output / table / f"data_referencia={day}" / "part-0.parquet"
            schema = pq.read_schema(path)
            assert [(f.name, hive_type_of_arrow(f.type)) for f in schema] == expected, (table, day)
            parquet = pq.ParquetFile(path).schema
            for i in range(len(parquet)):
                column = parquet.column(i)
                if column.logical_type.type == "TIMESTAMP":
                    assert column.physical_type == "INT64", (table, column.name)
                    logical = json.loads(column.logical_type.to_json())
                    assert (logical["isAdjustedToUTC"], logical["timeUnit"]) == (True, "microseconds"), (
                        table,
                        column.name,
                    )


@pytest.mark.parametrize(
    ("arrow_type", "hive"),
    [
        (pa.string(), "string"),
        (pa.date32(), "date"),
        (pa.int64(), "bigint"),
        (pa.int32(), "int"),
        (pa.float64(), "double"),
        (pa.bool_(), "boolean"),
        (pa.decimal128(18, 2), "decimal(18,2)"),
        (pa.decimal128(19, 2), "decimal(19,2)"),
        (pa.decimal128(38, 2), "decimal(38,2)"),
        (pa.timestamp("us", tz="UTC"), "timestamp"),
        (pa.timestamp("ms", tz="UTC"), "timestamp"),
    ],
)
def test_arrow_types_map_to_the_hive_type_that_reads_them(arrow_type, hive):
    assert hive_type_of_arrow(arrow_type) == hive


@pytest.mark.parametrize(
    "arrow_type",
    [pa.timestamp("ns", tz="UTC"), pa.timestamp("us"), pa.timestamp("us", tz="America/Sao_Paulo")],
)
def test_timestamps_athena_would_not_read_as_utc_instants_are_refused(arrow_type):
    with pytest.raises(ValueError, match="não é lido como instante UTC"):
        hive_type_of_arrow(arrow_type)
