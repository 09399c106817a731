"""Quality gates of the day: rates against the design's thresholds and a pandera schema of the
validated rows (the divergence table's contract is ``checks/expectations.py``).

The rules that produce the data live in ``dbt_like_sql``; these functions only compare facts with
limits or with the published contract (SPEC 5) and describe what they saw in the check's metadata.
pandera validates an *eager* Polars frame with no ``coerce`` and no ``drop_invalid_rows`` (both
silently change data, ECOSYSTEM_NOTES item 3).
"""

from __future__ import annotations

import sys
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
from reconciliation_assets.contract import (
    CONTRATO_DIVERGENCIAS,
    ESQUEMA_VALIDADAS,
    TAXA_DIVERGENCIA,
    TAXA_QUARENTENA,
)
from reconciliation_assets.observability import (
    DIVERGENCE_RATE_SEVERITY,
    QUARANTINE_RATE_SEVERITY,
    SEVERITY_OK,
    markdown_table,
    mask_nome_expr,
)

# A bounded view: pandera reads at most this many validated rows.
PANDERA_MAX_ROWS = 250_000  # a contract gate on a bounded view; full-data invariants are SQL checks
EXAMPLES = 10

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
        CONTRATO_DIVERGENCIAS,
        "divergencias",
        "Contrato da tabela em TODAS as linhas (SQL): colunas e ordem do contrato, nulos, unicidade "
        "(ordem_id, tipo_divergencia), domínios, hash, valores exatos; e o resumo (uma linha, taxa em [0, 1], "
        "contagens >= 0). Bloqueante. As mesmas expectativas rodam no Great Expectations depois da publicação "
        "(expectativas_divergencias).",
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
