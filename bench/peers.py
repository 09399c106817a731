"""The peers: the same day reconciled without the project, by other tools, each in its own process.

``python -m bench.peers <tool> --csv … --base-duckdb … --base-parquet … --out …`` prints one JSON
line: ``work_s`` (from the first read to the Parquet written; interpreter, imports and the Spark
session are start-up, outside it) and the rows written.

What every peer does (the same contract, so the timings compare like with like):

- read the day's CSV and the whole internal table (the DuckDB peers attach the ``.duckdb`` file
  read-only; Polars, datacompy and Spark read a Parquet export of it made once per size, outside
  any timed region);
- **typing, the minimum for a correct comparison of a well-formed line**: fields split on ``;``
  with ``"`` quoting, every string trimmed, ``nome`` in Unicode NFC, ``valor`` with a point or a
  comma rounded half-even to 2 places on a decimal (never a float, except inside datacompy's own
  numeric comparator), ``data`` as ``YYYY-MM-DD`` or ``DD/MM/YYYY``;
- full outer join on ``ordem_id``; TIPO_1 (only in the CSV), TIPO_2 (only in the base, ``data``
  inside ``[min(data), max(data)]`` of the CSV), one TIPO_3_<CAMPO> row per differing field;
- write the divergences (fornecedor_id, ordem_id, nome, ativo_id, data, data_base, valor_csv,
  valor_base, valor_diferenca, tipo_divergencia) to Parquet.

What no peer does: quarantine (a malformed, duplicated or out-of-range line is compared like any
other), line accounting, severities, ``detalhes``, ``hash_linha``, the summary, atomic publication.

Why the DuckDB and Polars peers read physical lines instead of using their CSV reader: the
generated file has lines with an unterminated quote (MALFORMED_ROW cases). DuckDB's ``read_csv``
then swallows the following lines into one quoted field (and with ``ignore_errors=true`` alone it
silently stops at the first error), and Polars' reader refuses the file; Spark's reader parses one
line at a time and is used as is. ``duckdb_raw`` is the literal reading of the brief: ``read_csv``
with ``store_rejects``, casts only, no trimming/NFC/half-even; its counts are expected to be wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

FIELDS = ("fornecedor_id", "ordem_id", "nome", "ativo_id", "data", "valor")
OUT_COLUMNS = (
    "fornecedor_id",
    "ordem_id",
    "nome",
    "ativo_id",
    "data",
    "data_base",
    "valor_csv",
    "valor_base",
    "valor_diferenca",
    "tipo_divergencia",
)
# One quote-aware field: "…" with "" escapes (spaces around allowed) or text without quotes.
FIELD_RE = r'( *"(?:[^"]|"")*" *|[^;"]*)'
LINE_RE = "^" + ";".join([FIELD_RE] * len(FIELDS)) + "$"
LINE_SEPARATOR = "\x01"  # a "delimiter" that never occurs: the reader hands over whole lines

# --------------------------------------------------------------------------------------------
# (a) DuckDB: one hand-written statement
# --------------------------------------------------------------------------------------------

DUCKDB_SQL = """
COPY (
with
linhas as (
    select linha
    from read_csv($csv, columns = {'linha': 'VARCHAR'}, header = true, auto_detect = false,
                  delim = '__SEP__', quote = '', escape = '', comment = '')
    where trim(linha) <> ''
),
partes as (
    select linha, string_split(linha, ';') as l from linhas
),
campos as (
    select
        unnest(case
            when contains(linha, '"') then regexp_extract(linha, '__LINE_RE__', ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'])
            else struct_pack(c1 := l[1], c2 := l[2], c3 := l[3], c4 := l[4], c5 := l[5], c6 := l[6])
        end)
    from partes
),
csv as (
    select
        trim(__UNQ__(c1)) as fornecedor_id,
        trim(__UNQ__(c2)) as ordem_id,
        nfc_normalize(trim(__UNQ__(c3))) as nome,
        trim(__UNQ__(c4)) as ativo_id,
        coalesce(try_strptime(trim(__UNQ__(c5)), '%Y-%m-%d'), try_strptime(trim(__UNQ__(c5)), '%d/%m/%Y'))::date as data,
        round_even(try_cast(replace(trim(__UNQ__(c6)), ',', '.') as decimal(38, 10)), 2)::decimal(18, 2) as valor
    from campos
),
base as (
    select
        trim(fornecedor_id) as fornecedor_id,
        trim(ordem_id) as ordem_id,
        nfc_normalize(trim(nome)) as nome,
        trim(ativo_id) as ativo_id,
        cast(data as date) as data,
        cast(valor as decimal(18, 2)) as valor
    from base_origem.transacoes_internas
),
__CLASSIFY__
) TO $out (FORMAT parquet, COMPRESSION zstd)
"""

DUCKDB_RAW_SQL = """
COPY (
with
csv as (
    select
        fornecedor_id, ordem_id, nome, ativo_id,
        coalesce(try_strptime(data, '%Y-%m-%d'), try_strptime(data, '%d/%m/%Y'))::date as data,
        try_cast(replace(valor, ',', '.') as decimal(18, 2)) as valor
    from read_csv($csv, delim = ';', quote = '"', escape = '"', header = true, auto_detect = false,
                  columns = {'fornecedor_id': 'VARCHAR', 'ordem_id': 'VARCHAR', 'nome': 'VARCHAR',
                             'ativo_id': 'VARCHAR', 'data': 'VARCHAR', 'valor': 'VARCHAR'},
                  store_rejects = true)
),
base as (
    select fornecedor_id, ordem_id, nome, ativo_id, cast(data as date) as data, valor
    from base_origem.transacoes_internas
),
__CLASSIFY__
) TO $out (FORMAT parquet, COMPRESSION zstd)
"""

# The classification both DuckDB peers share: one pass over the full outer join, a list of the
# row's divergence types, unnested.
DUCKDB_CLASSIFY = """
cobertura as (select min(data) as inicio, max(data) as fim from csv),
pares as (
    select
        csv.fornecedor_id, csv.ordem_id, csv.nome, csv.ativo_id, csv.data, csv.valor,
        b.fornecedor_id as fornecedor_id_base, b.ordem_id as ordem_id_base, b.nome as nome_base,
        b.ativo_id as ativo_id_base, b.data as data_base, b.valor as valor_base,
        case
            when b.ordem_id is null then ['TIPO_1']
            when csv.ordem_id is null then
                case when b.data between cobertura.inicio and cobertura.fim then ['TIPO_2'] else [] end
            else list_filter([
                case when csv.valor is distinct from b.valor then 'TIPO_3_VALOR' end,
                case when csv.data is distinct from b.data then 'TIPO_3_DATA' end,
                case when csv.fornecedor_id is distinct from b.fornecedor_id then 'TIPO_3_FORNECEDOR' end,
                case when csv.ativo_id is distinct from b.ativo_id then 'TIPO_3_ATIVO' end,
                case when csv.nome is distinct from b.nome then 'TIPO_3_NOME' end
            ], lambda x: x is not null)
        end as tipos
    from csv
    full outer join base as b on csv.ordem_id = b.ordem_id
    cross join cobertura
),
divergentes as (
    select * exclude (tipos), unnest(tipos) as tipo_divergencia from pares where len(tipos) > 0
)
select
    case when ordem_id is null then fornecedor_id_base else fornecedor_id end as fornecedor_id,
    coalesce(ordem_id, ordem_id_base) as ordem_id,
    case when ordem_id is null then nome_base else nome end as nome,
    case when ordem_id is null then ativo_id_base else ativo_id end as ativo_id,
    case when ordem_id is null then data_base else data end as data,
    data_base,
    valor as valor_csv,
    valor_base,
    cast(valor - valor_base as decimal(18, 2)) as valor_diferenca,
    tipo_divergencia
from divergentes
"""


def _unquote_sql(expr: str) -> str:
    return (
        f"(case when starts_with(trim({expr}), '\"') "
        f"then replace(trim({expr})[2:-2], '\"\"', '\"') else {expr} end)"
    )


def _duckdb(args: argparse.Namespace, raw: bool) -> dict:
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    con.execute(f"SET threads = {int(args.threads)}")
    con.execute(f"SET temp_directory = '{args.temp_dir}'")
    con.execute("SET preserve_insertion_order = false")
    started = time.perf_counter()
    con.execute(f"ATTACH '{args.base_duckdb}' AS base_origem (READ_ONLY)")
    if raw:
        sql = DUCKDB_RAW_SQL.replace("__CLASSIFY__", DUCKDB_CLASSIFY)
        params = {"csv": str(args.csv), "out": str(args.out)}
    else:
        sql = (
            DUCKDB_SQL.replace("__CLASSIFY__", DUCKDB_CLASSIFY)
            .replace("__SEP__", LINE_SEPARATOR)
            .replace("__LINE_RE__", LINE_RE)
        )
        for i in range(1, 7):
            sql = sql.replace(f"__UNQ__(c{i})", _unquote_sql(f"c{i}"))
        params = {"csv": str(args.csv), "out": str(args.out)}
    rows = con.execute(sql, params).fetchone()[0]
    work = time.perf_counter() - started
    con.close()
    return {"work_s": round(work, 3), "rows_out": int(rows)}


# --------------------------------------------------------------------------------------------
# (b) Polars lazy, streaming engine; (c) datacompy on the same Polars frames
# --------------------------------------------------------------------------------------------


def _polars_inputs(args: argparse.Namespace):
    """Lazy frames of the typed CSV rows and the typed internal rows."""
    import polars as pl

    lines = (
        pl.scan_csv(
            args.csv,
            has_header=True,
            separator=LINE_SEPARATOR,
            quote_char=None,
            schema={"linha": pl.String},
            comment_prefix=None,
        )
        .filter(pl.col("linha").is_not_null() & (pl.col("linha").str.strip_chars() != ""))
        .with_columns(aspas=pl.col("linha").str.contains('"', literal=True))
    )
    names = [f"c{i}" for i in range(1, 7)]

    def unquote(c: pl.Expr) -> pl.Expr:
        t = c.str.strip_chars(" ")
        return (
            pl.when(t.str.starts_with('"'))
            .then(t.str.slice(1, t.str.len_chars() - 2).str.replace_all('""', '"', literal=True))
            .otherwise(c)
        )

    # Lines without a quote: a plain split. Lines with one: the quote-aware regex, then unquoting.
    plain = lines.filter(~pl.col("aspas")).select(
        pl.col("linha").str.split_exact(";", 5).struct.rename_fields(names).alias("c")
    )
    quoted = lines.filter(pl.col("aspas")).select(
        pl.col("linha").str.extract_groups(LINE_RE).struct.rename_fields(names).alias("c")
    )
    quoted = quoted.select(
        pl.struct([unquote(pl.col("c").struct.field(n)).alias(n) for n in names]).alias("c")
    )
    fields = pl.concat([plain, quoted]).unnest("c")
    s = {n: pl.col(n).str.strip_chars() for n in names}
    csv = fields.select(
        fornecedor_id=s["c1"],
        ordem_id=s["c2"],
        nome=s["c3"].str.normalize("NFC"),
        ativo_id=s["c4"],
        data=pl.coalesce(
            s["c5"].str.to_date("%Y-%m-%d", strict=False), s["c5"].str.to_date("%d/%m/%Y", strict=False)
        ),
        valor=s["c6"]
        .str.replace(",", ".", literal=True)
        .cast(pl.Decimal(38, 10), strict=False)
        .round(2, mode="half_to_even")
        .cast(pl.Decimal(18, 2)),
    )
    base = pl.scan_parquet(args.base_parquet).select(
        fornecedor_id=pl.col("fornecedor_id").str.strip_chars(),
        ordem_id=pl.col("ordem_id").str.strip_chars(),
        nome=pl.col("nome").str.strip_chars().str.normalize("NFC"),
        ativo_id=pl.col("ativo_id").str.strip_chars(),
        data=pl.col("data").cast(pl.Date),
        valor=pl.col("valor").cast(pl.Decimal(18, 2)),
    )
    return csv, base


def _polars_divergences(pares, cobertura):
    """From the outer join (CSV columns plain, base columns ``*_base``) to the divergence rows."""
    import polars as pl

    def differs(a: str, b: str) -> pl.Expr:
        return pl.col(a).ne_missing(pl.col(b))

    tipos = (
        pl.when(pl.col("ordem_id_base").is_null())
        .then(pl.concat_list([pl.lit("TIPO_1")]))
        .when(pl.col("ordem_id").is_null())
        .then(
            pl.when(pl.col("data_base").is_between(pl.col("inicio"), pl.col("fim")))
            .then(pl.concat_list([pl.lit("TIPO_2")]))
            .otherwise(pl.concat_list([pl.lit(None, dtype=pl.String)]))
        )
        .otherwise(
            pl.concat_list(
                [
                    pl.when(differs("valor", "valor_base")).then(pl.lit("TIPO_3_VALOR")),
                    pl.when(differs("data", "data_base")).then(pl.lit("TIPO_3_DATA")),
                    pl.when(differs("fornecedor_id", "fornecedor_id_base")).then(pl.lit("TIPO_3_FORNECEDOR")),
                    pl.when(differs("ativo_id", "ativo_id_base")).then(pl.lit("TIPO_3_ATIVO")),
                    pl.when(differs("nome", "nome_base")).then(pl.lit("TIPO_3_NOME")),
                ]
            )
        )
    )
    only_base = pl.col("ordem_id").is_null()
    return (
        pares.join(cobertura, how="cross")
        .with_columns(tipo_divergencia=tipos.list.drop_nulls())
        .filter(pl.col("tipo_divergencia").list.len() > 0)
        .explode("tipo_divergencia", empty_as_null=True)
        .select(
            fornecedor_id=pl.when(only_base).then("fornecedor_id_base").otherwise("fornecedor_id"),
            ordem_id=pl.coalesce("ordem_id", "ordem_id_base"),
            nome=pl.when(only_base).then("nome_base").otherwise("nome"),
            ativo_id=pl.when(only_base).then("ativo_id_base").otherwise("ativo_id"),
            data=pl.when(only_base).then("data_base").otherwise("data"),
            data_base=pl.col("data_base"),
            valor_csv=pl.col("valor"),
            valor_base=pl.col("valor_base"),
            valor_diferenca=(pl.col("valor") - pl.col("valor_base")).cast(pl.Decimal(18, 2)),
            tipo_divergencia=pl.col("tipo_divergencia"),
        )
    )


def _polars(args: argparse.Namespace) -> dict:
    import polars as pl

    started = time.perf_counter()
    csv, base = _polars_inputs(args)
    cobertura = csv.select(inicio=pl.col("data").min(), fim=pl.col("data").max())
    pares = csv.join(base, on="ordem_id", how="full", suffix="_base")
    _polars_divergences(pares, cobertura).sink_parquet(args.out, compression="zstd", engine="streaming")
    work = time.perf_counter() - started
    rows = pl.scan_parquet(args.out).select(pl.len()).collect().item()
    return {"work_s": round(work, 3), "rows_out": int(rows)}


def _datacompy(args: argparse.Namespace) -> dict:
    import datacompy
    import polars as pl

    started = time.perf_counter()
    csv_lazy, base_lazy = _polars_inputs(args)
    csv = csv_lazy.collect(engine="streaming")
    base = base_lazy.collect(engine="streaming")
    compare = datacompy.PolarsCompare(csv, base, join_columns="ordem_id", df1_name="csv", df2_name="base")
    inicio, fim = csv.select(inicio=pl.col("data").min(), fim=pl.col("data").max()).row(0)
    parts = []
    t1 = compare.df1_unq_rows
    parts.append(
        t1.select(
            "fornecedor_id",
            "ordem_id",
            "nome",
            "ativo_id",
            "data",
            data_base=pl.lit(None, dtype=pl.Date),
            valor_csv=pl.col("valor"),
            valor_base=pl.lit(None, dtype=pl.Decimal(18, 2)),
            valor_diferenca=pl.lit(None, dtype=pl.Decimal(18, 2)),
            tipo_divergencia=pl.lit("TIPO_1"),
        )
    )
    t2 = compare.df2_unq_rows.filter(pl.col("data").is_between(inicio, fim))
    parts.append(
        t2.select(
            "fornecedor_id",
            "ordem_id",
            "nome",
            "ativo_id",
            "data",
            data_base=pl.col("data"),
            valor_csv=pl.lit(None, dtype=pl.Decimal(18, 2)),
            valor_base=pl.col("valor"),
            valor_diferenca=pl.lit(None, dtype=pl.Decimal(18, 2)),
            tipo_divergencia=pl.lit("TIPO_2"),
        )
    )
    both = compare.intersect_rows
    for column, tipo in (
        ("valor", "TIPO_3_VALOR"),
        ("data", "TIPO_3_DATA"),
        ("fornecedor_id", "TIPO_3_FORNECEDOR"),
        ("ativo_id", "TIPO_3_ATIVO"),
        ("nome", "TIPO_3_NOME"),
    ):
        parts.append(
            both.filter(~pl.col(f"{column}_match")).select(
                fornecedor_id=pl.col("fornecedor_id_csv"),
                ordem_id=pl.col("ordem_id"),
                nome=pl.col("nome_csv"),
                ativo_id=pl.col("ativo_id_csv"),
                data=pl.col("data_csv"),
                data_base=pl.col("data_base"),
                valor_csv=pl.col("valor_csv"),
                valor_base=pl.col("valor_base"),
                valor_diferenca=(pl.col("valor_csv") - pl.col("valor_base")).cast(pl.Decimal(18, 2)),
                tipo_divergencia=pl.lit(tipo),
            )
        )
    out = pl.concat(parts, how="vertical_relaxed")
    out.write_parquet(args.out, compression="zstd")
    work = time.perf_counter() - started
    return {"work_s": round(work, 3), "rows_out": out.height}


# --------------------------------------------------------------------------------------------
# (d) PySpark, local[2]
# --------------------------------------------------------------------------------------------


def _spark(args: argparse.Namespace) -> dict:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("recon-bench")
        .config("spark.driver.memory", args.spark_driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.legacy.timeParserPolicy", "CORRECTED")
        .config("spark.local.dir", args.temp_dir)
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter()

    def nfc(c):
        # NFC inside the JVM (ICU4J ships with Spark), no Python worker per row.
        return F.when(c.isNull(), None).otherwise(
            F.expr(f"java_method('com.ibm.icu.text.Normalizer', 'compose', {c._jc.toString()}, false)")
        )

    raw = spark.read.csv(
        str(args.csv), sep=";", quote='"', escape='"', header=True, mode="PERMISSIVE", inferSchema=False
    )
    t = {n: F.trim(F.col(n)) for n in FIELDS}
    csv = raw.select(
        t["fornecedor_id"].alias("fornecedor_id"),
        t["ordem_id"].alias("ordem_id"),
        t["nome"].alias("nome_t"),
        t["ativo_id"].alias("ativo_id"),
        F.coalesce(
            F.expr("try_to_date(trim(data), 'yyyy-MM-dd')"), F.expr("try_to_date(trim(data), 'dd/MM/yyyy')")
        ).alias("data"),
        F.bround(F.expr("try_cast(replace(trim(valor), ',', '.') as decimal(38, 10))"), 2)
        .cast("decimal(18,2)")
        .alias("valor"),
    )
    csv = csv.withColumn("nome", nfc(F.col("nome_t"))).drop("nome_t")
    b = spark.read.parquet(str(args.base_parquet))
    base = b.select(
        F.trim("fornecedor_id").alias("fornecedor_id_base"),
        F.trim("ordem_id").alias("ordem_id_base"),
        F.trim("nome").alias("nome_t"),
        F.trim("ativo_id").alias("ativo_id_base"),
        F.col("data").cast("date").alias("data_base"),
        F.col("valor").cast("decimal(18,2)").alias("valor_base"),
    )
    base = base.withColumn("nome_base", nfc(F.col("nome_t"))).drop("nome_t")
    cobertura = csv.agg(F.min("data").alias("inicio"), F.max("data").alias("fim"))
    pares = csv.join(base, csv.ordem_id == base.ordem_id_base, "full_outer").crossJoin(cobertura)

    def differs(a: str, b: str):
        return ~F.col(a).eqNullSafe(F.col(b))

    lit_null = F.lit(None).cast("string")
    tipos = (
        F.when(F.col("ordem_id_base").isNull(), F.array(F.lit("TIPO_1")))
        .when(
            F.col("ordem_id").isNull(),
            F.when(
                F.col("data_base").between(F.col("inicio"), F.col("fim")), F.array(F.lit("TIPO_2"))
            ).otherwise(F.array(lit_null)),
        )
        .otherwise(
            F.array(
                F.when(differs("valor", "valor_base"), F.lit("TIPO_3_VALOR")),
                F.when(differs("data", "data_base"), F.lit("TIPO_3_DATA")),
                F.when(differs("fornecedor_id", "fornecedor_id_base"), F.lit("TIPO_3_FORNECEDOR")),
                F.when(differs("ativo_id", "ativo_id_base"), F.lit("TIPO_3_ATIVO")),
                F.when(differs("nome", "nome_base"), F.lit("TIPO_3_NOME")),
            )
        )
    )
    only_base = F.col("ordem_id").isNull()
    out = (
        pares.withColumn("tipos", F.filter(tipos, lambda x: x.isNotNull()))
        .select("*", F.explode("tipos").alias("tipo_divergencia"))
        .select(
            F.when(only_base, F.col("fornecedor_id_base"))
            .otherwise(F.col("fornecedor_id"))
            .alias("fornecedor_id"),
            F.coalesce("ordem_id", "ordem_id_base").alias("ordem_id"),
            F.when(only_base, F.col("nome_base")).otherwise(F.col("nome")).alias("nome"),
            F.when(only_base, F.col("ativo_id_base")).otherwise(F.col("ativo_id")).alias("ativo_id"),
            F.when(only_base, F.col("data_base")).otherwise(F.col("data")).alias("data"),
            "data_base",
            F.col("valor").alias("valor_csv"),
            "valor_base",
            (F.col("valor") - F.col("valor_base")).cast("decimal(18,2)").alias("valor_diferenca"),
            "tipo_divergencia",
        )
    )
    out.write.mode("overwrite").option("compression", "zstd").parquet(str(args.out))
    work = time.perf_counter() - started
    rows = spark.read.parquet(str(args.out)).count()
    spark.stop()
    return {"work_s": round(work, 3), "rows_out": int(rows)}


TOOLS = {
    "duckdb": lambda a: _duckdb(a, raw=False),
    "duckdb_raw": lambda a: _duckdb(a, raw=True),
    "polars": _polars,
    "datacompy": _datacompy,
    "spark": _spark,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tool", choices=sorted(TOOLS))
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--base-duckdb", type=Path, required=True)
    parser.add_argument("--base-parquet", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit (as the chain's default)")
    parser.add_argument("--spark-driver-memory", default="2g")
    parser.add_argument("--temp-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    args.temp_dir.mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(json.dumps(TOOLS[args.tool](args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
