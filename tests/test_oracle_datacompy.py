"""An independent oracle: datacompy's PolarsCompare must find the same TIPO_1/2/3 counts as our SQL.

It compares the validated rows with the internal snapshot (both already normalised), so it checks
the join, the coverage rule for TIPO_2 and the per-field comparison, not the parsing.
"""

from datetime import date

import polars as pl
from datacompy import PolarsCompare

from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.generator import Scenario, generate
from tests.chain import read_rows, run_day

FIELDS = {
    "valor": "TIPO_3_VALOR",
    "data": "TIPO_3_DATA",
    "fornecedor_id": "TIPO_3_FORNECEDOR",
    "ativo_id": "TIPO_3_ATIVO",
    "nome": "TIPO_3_NOME",
}


def test_datacompy_agrees_with_the_divergence_model(tmp_path):
    src = tmp_path / "src"
    generate(
        Scenario(rows=4_000, data_referencia=date(2024, 3, 10), seed=7), src / "ingress", src / "base.duckdb"
    )
    csv_bytes = (src / "ingress" / "2024-03-10" / "transacoes.csv").read_bytes()
    import duckdb

    base_rows = (
        duckdb.connect(str(src / "base.duckdb")).execute("SELECT * FROM transacoes_internas").fetchall()
    )
    result = run_day(tmp_path / "run", {"transacoes.csv": csv_bytes}, base_rows)
    paths = DayPaths.for_date(tmp_path / "run" / "work", "2024-03-10")

    cols = ["fornecedor_id", "ordem_id", "nome", "ativo_id", "data", "valor"]
    csv_df = pl.DataFrame(read_rows(paths.validadas, "ordem_id")).select(cols)
    base_df = pl.DataFrame(read_rows(paths.base_interna, "ordem_id")).select(cols)
    lo, hi = csv_df["data"].min(), csv_df["data"].max()
    compare = PolarsCompare(csv_df, base_df, join_columns="ordem_id")

    only_base_in_coverage = compare.df2_unq_rows.filter(pl.col("data").is_between(lo, hi)).height
    expected = {"TIPO_1": compare.df1_unq_rows.height, "TIPO_2": only_base_in_coverage}
    mismatches = compare.intersect_rows
    for column, tipo in FIELDS.items():
        expected[tipo] = mismatches.filter(~pl.col(f"{column}_match")).height
    got = {t: sum(1 for r in result.divergencias if r["tipo_divergencia"] == t) for t in expected}
    assert got == expected
    assert expected["TIPO_1"] > 0 and expected["TIPO_2"] > 0 and all(expected[t] > 0 for t in FIELDS.values())
