"""Quality gates of the day: rates against the design's thresholds, a pandera schema of the validated
rows and a Great Expectations suite over a bounded view of the divergences.

The rules that produce the data live in ``dbt_like_sql``; these functions only compare facts with
limits or with the published contract (SPEC 5) and describe what they saw in the check's metadata.
pandera validates an *eager* Polars frame with no ``coerce`` and no ``drop_invalid_rows`` (both
silently change data, ECOSYSTEM_NOTES item 3); Great Expectations runs on a bounded pandas view in
an ephemeral context with progress bars off.
"""

from __future__ import annotations

import logging
import sys
import warnings
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

# Great Expectations (and pandera) probe for pyspark when imported. We never use their Spark
# backends, and with pyspark installed (the benchmark's `bench` extra) that probe costs seconds and,
# in a run worker launched by the daemon, pyspark's doctest detection calls sys.exit(0) mid-run.
# Marking pyspark as absent for this process makes both libraries take their no-Spark path.
if "pyspark" not in sys.modules:
    sys.modules["pyspark"] = None  # type: ignore[assignment]

from checks.invariants import spec
from reconciliation_assets import schemas
from reconciliation_assets.contract import (
    ESQUEMA_VALIDADAS,
    EXPECTATIVAS_DIVERGENCIAS,
    TAXA_DIVERGENCIA,
    TAXA_QUARENTENA,
)
from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner
from reconciliation_assets.observability import (
    DIVERGENCE_RATE_SEVERITY,
    QUARANTINE_RATE_SEVERITY,
    SEVERITY_OK,
    markdown_table,
    mask_nome,
    mask_nome_expr,
    mask_record,
)

# Bounded views: pandera reads at most this many validated rows, GE samples this many divergences.
PANDERA_MAX_ROWS = 250_000  # a contract gate on a bounded view; full-data invariants are SQL checks
GE_SAMPLE_ROWS = 20_000
EXAMPLES = 10

DIVERGENCIAS_COLUMNS = [column.name for column in schemas.DIVERGENCIAS.columns]  # the published contract
TIPOS_DIVERGENCIA = list(schemas.TIPOS_DIVERGENCIA)
SEVERIDADES = ["HIGH", "MEDIUM", "LOW"]
# Money columns reach GE as exact text (a float view rounds 9999999999999999.99 up to 1e16), and
# their range is the decimal's digit count: decimal(18,2) holds 16 integer digits, decimal(19,2) 17.
MONEY_DIGITS = {"valor_csv": 16, "valor_base": 16, "valor_diferenca": 17}
RESUMO_COUNTS = [
    "arquivos",
    "linhas_csv",
    "linhas_validas",
    "linhas_quarentena",
    "linhas_em_branco",
    "linhas_base_escopo",
    "conciliadas_sem_divergencia",
    *schemas.CONTAGENS_POR_TIPO,
]

VALIDACAO_QUALITY_CHECKS = [
    spec(
        ESQUEMA_VALIDADAS,
        "transacoes_validadas",
        "Esquema pandera das linhas validadas (tipos, nulos, ordem_id único, data na janela, texto aparado e NFC). "
        "Bloqueante: sem ele as divergências não são calculadas.",
    ),
    spec(
        TAXA_QUARENTENA,
        "quarentena",
        "linhas_quarentena / linhas_csv <= limite (5% por padrão). Acima: CRITICAL (o arquivo do fornecedor "
        "veio com muitas linhas rejeitadas). Não bloqueia: a quarentena precisa ser publicada para correção.",
        blocking=False,
    ),
]
DIVERGENCIAS_QUALITY_CHECKS = [
    spec(
        EXPECTATIVAS_DIVERGENCIAS,
        "divergencias",
        "Suíte Great Expectations sobre uma amostra limitada das divergências e o resumo: colunas e ordem do "
        "contrato, nulos, unicidade (ordem_id, tipo_divergencia), domínios, hash e faixas. Bloqueante.",
    ),
    spec(
        TAXA_DIVERGENCIA,
        "divergencias",
        "taxa_divergencia <= limite (10% por padrão). Acima: MEDIUM (aviso, não bloqueia).",
        blocking=False,
    ),
]


# ---- rates ----------------------------------------------------------------------------------------
def quarantine_rate(stats: dict[str, Any], limit: float) -> dg.AssetCheckResult:
    linhas_csv = int(stats["linhas_csv"])
    quarantined = int(stats["linhas_quarentena"])
    rate = quarantined / linhas_csv if linhas_csv else 0.0
    passed = rate <= limit
    return dg.AssetCheckResult(
        check_name=TAXA_QUARENTENA,
        asset_key=dg.AssetKey("quarentena"),
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{quarantined} de {linhas_csv} linhas em quarentena ({rate:.2%}); limite {limit:.2%}."
            + ("" if passed else " Verifique o arquivo do fornecedor (motivos abaixo).")
        ),
        metadata={
            "taxa_quarentena": dg.MetadataValue.float(round(rate, 6)),
            "limite": dg.MetadataValue.float(float(limit)),
            "linhas_quarentena": quarantined,
            "linhas_csv": linhas_csv,
            "por_motivo": dg.MetadataValue.json(
                {str(k): int(v) for k, v in (stats.get("por_motivo") or {}).items()}
            ),
            "severidade_alerta": SEVERITY_OK if passed else QUARANTINE_RATE_SEVERITY,
        },
    )


def divergence_rate(resumo: dict[str, Any], limit: float) -> dg.AssetCheckResult:
    rate = float(resumo["taxa_divergencia"])
    passed = rate <= limit
    return dg.AssetCheckResult(
        check_name=TAXA_DIVERGENCIA,
        asset_key=dg.AssetKey("divergencias"),
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"taxa de divergência {rate:.2%}; limite {limit:.2%}.",
        metadata={
            "taxa_divergencia": dg.MetadataValue.float(round(rate, 6)),
            "limite": dg.MetadataValue.float(float(limit)),
            "tipo_1": int(resumo["tipo_1"]),
            "tipo_2": int(resumo["tipo_2"]),
            "linhas_validas": int(resumo["linhas_validas"]),
            "linhas_base_escopo": int(resumo["linhas_base_escopo"]),
            "severidade_alerta": SEVERITY_OK if passed else DIVERGENCE_RATE_SEVERITY,
        },
    )


# ---- pandera: schema of the validated rows ---------------------------------------------------------
def _validated_schema(data_referencia: str, max_age_days: int) -> Any:
    import pandera.polars as pa

    day = date.fromisoformat(data_referencia)

    def edges_trimmed(data: Any) -> pl.LazyFrame:
        col = pl.col(data.key)
        return data.lazyframe.select(col == col.str.strip_chars(" \t\u00a0"))

    def nfc(data: Any) -> pl.LazyFrame:
        col = pl.col(data.key)
        return data.lazyframe.select(col == col.str.normalize("NFC"))

    def text(unique: bool = False) -> Any:
        return pa.Column(
            pl.Utf8,
            nullable=False,
            unique=unique,
            checks=[
                pa.Check.str_length(min_value=1),
                pa.Check(edges_trimmed, name="aparado"),
                pa.Check(nfc, name="nfc"),
            ],
        )

    return pa.DataFrameSchema(
        {
            "fornecedor_id": text(),
            "ordem_id": text(unique=True),
            "nome": text(),
            "ativo_id": text(),
            "data": pa.Column(
                pl.Date,
                nullable=False,
                checks=pa.Check.in_range(day - timedelta(days=max_age_days), day),
            ),
            "valor": pa.Column(pl.Decimal(18, 2), nullable=False),
            "arquivo": pa.Column(pl.Utf8, nullable=False),
            "linha": pa.Column(pl.Int64, nullable=False, checks=pa.Check.ge(2)),
        },
        strict=True,
        coerce=False,
        name="transacoes_validadas",
    )


def validated_schema_check(
    validadas: Path, data_referencia: str, max_age_days: int, max_rows: int = PANDERA_MAX_ROWS
) -> dg.AssetCheckResult:
    """Validate the validated Parquet (eagerly; the first ``max_rows`` rows when larger) with pandera."""
    import pandera.errors as pa_errors

    lazy = pl.scan_parquet(validadas, hive_partitioning=False)
    total = int(lazy.select(pl.len()).collect().item())
    frame = (lazy if total <= max_rows else lazy.head(max_rows)).collect()
    schema = _validated_schema(data_referencia, max_age_days)
    failures: pl.DataFrame | None = None
    try:
        schema.validate(frame, lazy=True)
    except pa_errors.SchemaErrors as exc:
        failures = exc.failure_cases
    except pa_errors.SchemaError as exc:  # raised even with lazy=True for some frame-level errors
        failures = pl.DataFrame(
            {
                "failure_case": [str(exc.failure_cases) if exc.failure_cases is not None else str(exc)],
                "column": [getattr(exc, "column_name", None) or "-"],
                "check": [str(exc.check) if exc.check is not None else "schema"],
                "index": [None],
            },
            schema_overrides={"index": pl.Int64},
        )
    metadata: dict[str, Any] = {
        "linhas_validadas": total,
        "linhas_verificadas": frame.height,
        "amostra": frame.height < total,
        "colunas": ", ".join(frame.columns),
    }
    if failures is None or failures.height == 0:
        return dg.AssetCheckResult(
            check_name=ESQUEMA_VALIDADAS,
            asset_key=dg.AssetKey("transacoes_validadas"),
            passed=True,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"{frame.height} linhas conformes ao esquema.",
            metadata={**metadata, "falhas": 0, "severidade_alerta": SEVERITY_OK},
        )
    cases = (
        failures.select(
            pl.col("column").cast(pl.Utf8).fill_null("-").alias("coluna"),
            pl.col("check").cast(pl.Utf8).fill_null("-").alias("checagem"),
            # nome is masked before it can reach metadata, logs or alerts.
            pl.when(pl.col("column") == "nome")
            .then(mask_nome_expr("failure_case"))
            .otherwise(pl.col("failure_case").cast(pl.Utf8).str.slice(0, 80))
            .alias("valor"),
            pl.col("index").cast(pl.Int64).alias("indice"),
        )
        .join(
            frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("indice"), "arquivo", "linha")
            if {"arquivo", "linha"} <= set(frame.columns)
            else pl.DataFrame(schema={"indice": pl.Int64, "arquivo": pl.Utf8, "linha": pl.Int64}),
            on="indice",
            how="left",
        )
        .drop("indice")
    )
    by_check = cases.group_by("coluna", "checagem").len().sort("len", descending=True)
    summary = {f"{c}:{k}": int(n) for c, k, n in by_check.iter_rows()}
    return dg.AssetCheckResult(
        check_name=ESQUEMA_VALIDADAS,
        asset_key=dg.AssetKey("transacoes_validadas"),
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{cases.height} violação(ões) do esquema em {frame.height} linhas: "
            + "; ".join(f"{k} ({n})" for k, n in list(summary.items())[:5])
        ),
        metadata={
            **metadata,
            "falhas": cases.height,
            "falhas_por_checagem": dg.MetadataValue.json(summary),
            "exemplos": dg.MetadataValue.md(markdown_table(cases.head(EXAMPLES).to_dicts())),
            "severidade_alerta": "HIGH",
        },
    )


# ---- Great Expectations: contract of the divergences (bounded view) ---------------------------------
def _ge_context() -> Any:
    """An in-memory GX context: no files, no docs site, no usage statistics, no progress bars."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
    for noisy in ("great_expectations", "py4j", "pyspark"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx, context


def _divergences_suite(gx: Any, job_id: str) -> Any:
    e = gx.expectations
    suite = gx.ExpectationSuite(name="divergencias_contrato")
    suite.add_expectation(e.ExpectTableColumnsToMatchOrderedList(column_list=DIVERGENCIAS_COLUMNS))
    for column in (
        "ordem_id",
        "tipo_divergencia",
        "severidade",
        "detalhes",
        "hash_linha",
        "timestamp",
        "job_id",
    ):
        suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(e.ExpectCompoundColumnsToBeUnique(column_list=["ordem_id", "tipo_divergencia"]))
    suite.add_expectation(
        e.ExpectColumnValuesToBeInSet(column="tipo_divergencia", value_set=TIPOS_DIVERGENCIA)
    )
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="severidade", value_set=SEVERIDADES))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="job_id", value_set=[job_id]))
    suite.add_expectation(e.ExpectColumnValuesToMatchRegex(column="hash_linha", regex=r"^[0-9a-f]{64}$"))
    suite.add_expectation(e.ExpectColumnValuesToMatchRegex(column="detalhes", regex=r"^campo="))
    for column, digits in MONEY_DIGITS.items():
        suite.add_expectation(
            e.ExpectColumnValuesToMatchRegex(
                column=column, regex=rf"^-?(?:0|[1-9][0-9]{{0,{digits - 1}}})\.[0-9]{{2}}$"
            )
        )
    return suite


def _summary_suite(gx: Any) -> Any:
    e = gx.expectations
    suite = gx.ExpectationSuite(name="resumo_faixas")
    suite.add_expectation(e.ExpectTableRowCountToEqual(value=1))
    suite.add_expectation(
        e.ExpectColumnValuesToBeBetween(column="taxa_divergencia", min_value=0, max_value=1)
    )
    for column in RESUMO_COUNTS:
        suite.add_expectation(e.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    return suite


def _describe(result: Any, batch: str) -> dict[str, Any]:
    config = result.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column") or ",".join(kwargs.get("column_list", [])[:3]) or "-"
    details = result.result or {}
    examples = details.get("partial_unexpected_list") or []
    shown: list[Any] = []  # masked records (dicts) or short texts
    for value in examples[:5]:
        if isinstance(value, dict):
            shown.append(mask_record(value))
        elif kwargs.get("column") == "nome":
            shown.append(mask_nome(value))
        else:
            shown.append(str(value)[:60])
    if result.exception_info and result.exception_info.get("raised_exception"):
        shown = [str(result.exception_info.get("exception_message", ""))[:120]]
    observed = details.get("observed_value")
    return {
        "lote": batch,
        "expectativa": config.type,
        "coluna": column,
        "sucesso": bool(result.success),
        "inesperados": details.get("unexpected_count")
        if details.get("unexpected_count") is not None
        else ("-" if observed is None else str(observed)[:60]),
        "exemplos": ", ".join(str(s) for s in shown) or "-",
    }


def divergences_expectations_check(
    divergencias: Path,
    resumo: dict[str, Any],
    job_id: str,
    engine: EngineSettings,
    sample_rows: int = GE_SAMPLE_ROWS,
) -> dg.AssetCheckResult:
    """Run the contract suite on a reservoir sample of the divergences and on the one-row summary."""
    import pandas as pd

    with ModelRunner(engine) as runner:
        # The work folder is named data_referencia=D: without hive_partitioning=false DuckDB would
        # add that folder as a 16th column, which is not in the file.
        source = "read_parquet($path, hive_partitioning = false)"
        ((total,),) = runner.con.execute(
            f"SELECT count(*) FROM {source}", {"path": str(divergencias)}
        ).fetchall()
        # Money as exact text: pandas would turn decimals into floats (9999999999999999.99 -> 1e16).
        money = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in MONEY_DIGITS)
        sample = runner.con.execute(
            f"SELECT * REPLACE ({money}) FROM {source} "
            f"USING SAMPLE reservoir({int(sample_rows)} ROWS) REPEATABLE (42)",
            {"path": str(divergencias)},
        ).df()
    summary = pd.DataFrame(
        [
            {
                k: (float(resumo[k]) if k == "taxa_divergencia" else int(resumo[k]))
                for k in ["taxa_divergencia", *RESUMO_COUNTS]
            }
        ]
    )
    gx, context = _ge_context()
    source = context.data_sources.add_pandas("recon")
    rows: list[dict[str, Any]] = []
    for name, frame, suite in (
        ("divergencias", sample, _divergences_suite(gx, job_id)),
        ("resumo", summary, _summary_suite(gx)),
    ):
        batch_def = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        validation = batch_def.get_batch(batch_parameters={"dataframe": frame}).validate(
            context.suites.add(suite)
        )
        rows += [_describe(r, name) for r in validation.results]
    failed = [r for r in rows if not r["sucesso"]]
    passed = not failed
    return dg.AssetCheckResult(
        check_name=EXPECTATIVAS_DIVERGENCIAS,
        asset_key=dg.AssetKey("divergencias"),
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{len(rows) - len(failed)} de {len(rows)} expectativas atendidas"
            + (
                ""
                if passed
                else ": falharam " + "; ".join(f"{r['expectativa']}({r['coluna']})" for r in failed[:5])
            )
        ),
        metadata={
            "ge_expectativas": len(rows),
            "ge_sucesso": len(rows) - len(failed),
            "ge_falhas": len(failed),
            "linhas_amostra": len(sample),
            "linhas_total": total,
            "ge_resultados": dg.MetadataValue.md(markdown_table(rows)),
            "ge_falhas_detalhe": dg.MetadataValue.json(failed),
            "severidade_alerta": SEVERITY_OK if passed else "HIGH",
        },
    )
