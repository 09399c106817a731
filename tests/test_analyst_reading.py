"""The README's one-liners, run as written, read every published table folder with every engine.

The lines are taken from the README itself (its "Querying the output" section), pointed at a real
published output: if the README changes, this runs the new text; if the layout breaks an engine (a
stray file in a table folder, a partition read as a string), this fails. Expected figures come from
the publication's own manifests, not from any of the engines under test.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.published_output import PublishedOutput

README = Path(__file__).resolve().parents[1] / "README.md"
TABLES = ("divergencias", "resumo_conciliacao", "quarentena", "pendencias")
README_DAY = "2024-03-10"
DAY = "2024-03-09"  # a published date of the fixture (03-10 is its gap)
ENGINES = ("duckdb", "pandas", "polars", "spark")


def readme_lines() -> dict[str, str]:
    """The analyst section's Python one-liners, by engine."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Querying the output (analysts)", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    by_engine = {}
    for block in blocks:
        engine = next(e for e in ENGINES if (e if e != "spark" else "spark.read") in block)
        by_engine[engine] = block
    assert set(by_engine) == set(ENGINES), f"README lacks a one-liner for {set(ENGINES) - set(by_engine)}"
    return by_engine


def prepared(line: str, output: Path, table: str) -> str:
    """The README's line pointed at this output, table and date, otherwise as an analyst pastes it."""
    y, m, d = (int(p) for p in DAY.split("-"))
    return (
        line.replace("recon_data/output", str(output))
        .replace("divergencias", table)
        .replace(README_DAY, DAY)
        .replace("datetime.date(2024, 3, 10)", f"datetime.date({y}, {m}, {d})")
    )


def run_line(line: str, output: Path, table: str) -> object:
    scope: dict = {}
    exec(prepared(line, output, table), scope)
    return scope["df"]


def as_rows(engine: str, df: object) -> tuple[list[str], list[dict]]:
    """Columns and rows (python values) of an in-process engine's result."""
    if engine == "polars":
        return df.columns, df.to_dicts()
    if engine == "duckdb":
        return df.columns, [dict(zip(df.columns, row, strict=True)) for row in df.fetchall()]
    return list(df.columns), df.to_dict("records")


def text(value: object) -> object:
    """One spelling for every engine: dates ISO, decimals as their exact text."""
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def readings(engine: str, output: Path) -> dict[str, tuple[list[str], list[dict]]]:
    """Each table's columns and rows (values spelled by ``text``) as the engine's README line reads them."""
    line = readme_lines()[engine]
    if engine == "spark":
        return {t: (r["columns"], r["rows"]) for t, r in spark_readings(line, output).items()}
    out = {}
    for table in TABLES:
        columns, rows = as_rows(engine, run_line(line, output, table))
        if engine != "spark":
            money = [
                v for r in rows for k, v in r.items() if k.startswith(("valor", "total")) and v is not None
            ]
            assert all(isinstance(v, Decimal) for v in money), (engine, table, {type(v) for v in money})
        out[table] = (list(columns), [{k: text(v) for k, v in r.items()} for r in rows])
    return out


def manifest(output: Path, table: str) -> dict:
    return json.loads((output / "_manifestos" / f"data_referencia={DAY}" / f"{table}.json").read_text())


SPARK_READER = """
import datetime, json, sys
from decimal import Decimal
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC").config("spark.sql.shuffle.partitions", "1").getOrCreate())
out = {}
for table, code in json.loads(sys.argv[1]).items():
    scope = {"spark": spark}
    exec(code, scope)
    df = scope["df"]
    out[table] = {"columns": df.columns, "types": dict(df.dtypes),
                  "rows": [{k: (v.isoformat() if isinstance(v, (datetime.date, datetime.datetime)) else
                                str(v) if isinstance(v, Decimal) else v)
                            for k, v in r.asDict().items()} for r in df.collect()]}
spark.stop()
print("RESULT " + json.dumps(out))
"""


def spark_readings(line: str, output: Path) -> dict[str, dict]:
    """The Spark one-liner over each table, in its own process (a JVM, and no pyspark in ours)."""
    codes = {table: prepared(line, output, table) for table in TABLES}
    done = subprocess.run(
        [sys.executable, "-c", SPARK_READER, json.dumps(codes)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(result.removeprefix("RESULT "))


def test_the_table_folders_hold_only_parquet(published_output: PublishedOutput):
    for table in TABLES:
        files = [p for p in (published_output.output / table).rglob("*") if p.is_file()]
        assert files and all(p.suffix == ".parquet" for p in files), files
        assert sorted(p.parent.name for p in files) == [
            f"data_referencia={d}" for d in published_output.dates
        ]


@pytest.fixture(scope="module")
def by_engine(published_output: PublishedOutput) -> dict[str, dict]:
    return {engine: readings(engine, published_output.output) for engine in ENGINES}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.slow  # the Spark one-liner in a JVM
def test_each_readme_line_reads_every_table_with_a_date_partition_and_exact_money(
    engine: str, by_engine: dict, published_output: PublishedOutput
):
    tables = by_engine[engine]
    for table in TABLES:
        columns, rows = tables[table]
        assert rows, f"{table} has no row on {DAY}: the comparison would be empty"
        assert len(rows) == manifest(published_output.output, table)["linhas"], (engine, table)
        assert columns[-1] == "data_referencia", (engine, table, columns)
        assert {r["data_referencia"] for r in rows} == {DAY}, (engine, table)
    # Money arrives exact, to the cent: the divergences explain the summary's balance figures.
    resumo = tables["resumo_conciliacao"][1][0]
    divergencias = tables["divergencias"][1]

    def total(column: str, tipo: str) -> Decimal:
        return sum((Decimal(r[column]) for r in divergencias if r["tipo_divergencia"] == tipo), Decimal(0))

    explained = (
        total("valor_csv", "TIPO_1")
        - total("valor_base", "TIPO_2")
        + total("valor_diferenca", "TIPO_3_VALOR")
    )
    assert explained == Decimal(resumo["total_explicado"]) != 0, engine
    assert resumo["diferenca_nao_explicada"] == "0.00", engine
    assert all(len(r["valor_diferenca"].split(".")[1]) == 2 for r in divergencias if r["valor_diferenca"])


@pytest.mark.slow  # the Spark one-liner in a JVM
def test_every_engine_reads_the_same_rows(by_engine: dict):
    def keyed(engine: str) -> list[tuple]:
        rows = by_engine[engine]["divergencias"][1]
        return sorted(
            (r["ordem_id"], r["tipo_divergencia"], r["hash_linha"], r["valor_diferenca"]) for r in rows
        )

    assert keyed("duckdb") == keyed("pandas") == keyed("polars") == keyed("spark")
    assert len(keyed("duckdb")) > 100
