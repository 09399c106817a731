"""Blocking invariants. The facts come from the SQL models; these functions only compare them.

Each returns an ``AssetCheckResult`` whose metadata shows what was observed and what was expected,
so a failure in the UI explains itself.
"""

from __future__ import annotations

import warnings
from typing import Any

import dagster as dg

from reconciliation_assets.contract import (
    CASAMENTO_BASE,
    CASAMENTO_CSV,
    CONTAGEM_LINHAS,
    ORDEM_ID_UNICO_BASE,
    SALDO_EXPLICADO,
)
from reconciliation_assets.partitions import daily_partitions


def spec(name: str, asset: str, description: str, blocking: bool = True) -> dg.AssetCheckSpec:
    """A check of one date: partitioned like its asset (a preview feature in Dagster 1.13 that the
    partition-aware check history relies on; its warning is silenced here, not shown on every start)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", category=dg.PreviewWarning, message=".*partitions_def on an AssetCheckSpec"
        )
        return dg.AssetCheckSpec(
            name, asset=asset, description=description, blocking=blocking, partitions_def=daily_partitions
        )


VALIDADAS_CHECKS = [
    spec(
        CONTAGEM_LINHAS,
        "transacoes_validadas",
        "Toda linha de dados termina em validadas ou em quarentena: linhas_csv = linhas_validas + linhas_quarentena, "
        "e linhas físicas = cabeçalhos + em branco + linhas_csv.",
    )
]
BASE_CHECKS = [
    spec(
        ORDEM_ID_UNICO_BASE,
        "base_interna_snapshot",
        "ordem_id é único e preenchido nas linhas lidas da base interna; duplicatas ou ordem_id nulo param a "
        "execução antes da publicação.",
    )
]
DIVERGENCIAS_CHECKS = [
    spec(
        SALDO_EXPLICADO,
        "divergencias",
        "total_csv - total_base_escopo - total_explicado = 0.00; qualquer outro valor indica linhas perdidas.",
    ),
    spec(CASAMENTO_CSV, "divergencias", "casadas + TIPO_1 = linhas validadas."),
    spec(CASAMENTO_BASE, "divergencias", "casadas + TIPO_2 = linhas da base em escopo."),
]


def _result(name: str, asset: str, passed: bool, **metadata: Any) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=dg.AssetKey(asset),
        passed=bool(passed),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


def line_accounting(stats: dict[str, Any]) -> dg.AssetCheckResult:
    """Every data line ends in exactly one of the two files *as written*: the classification's own
    counts come from one scan and always add up, so the rows the files received are compared too."""
    written_valid = stats["linhas_validas_gravadas"]
    written_quarantine = stats["linhas_quarentena_gravadas"]
    expected = written_valid + written_quarantine
    physical = stats["linhas_cabecalho"] + stats["linhas_em_branco"] + stats["linhas_csv"]
    agrees = (written_valid, written_quarantine) == (stats["linhas_validas"], stats["linhas_quarentena"])
    return _result(
        CONTAGEM_LINHAS,
        "transacoes_validadas",
        stats["linhas_csv"] == expected and stats["linhas_fisicas"] == physical and agrees,
        linhas_csv=stats["linhas_csv"],
        validas_mais_quarentena=expected,
        linhas_validas_gravadas=written_valid,
        linhas_quarentena_gravadas=written_quarantine,
        linhas_fisicas=stats["linhas_fisicas"],
        cabecalhos_branco_dados=physical,
    )


def unique_internal_ids(
    rows: int, distinct_ids: int, sample: list[str | None], nulls: int = 0, duplicated: int | None = None
) -> dg.AssetCheckResult:
    """Fails on repeated ordem_ids and on rows without one (NULL or blank): neither can be matched."""
    if duplicated is None:
        duplicated = rows - nulls - distinct_ids
    shown = ", ".join("<nulo>" if s is None else str(s)[:40] for s in sample) or "-"
    return _result(
        ORDEM_ID_UNICO_BASE,
        "base_interna_snapshot",
        rows == distinct_ids + nulls and nulls == 0 and duplicated == 0,
        linhas=rows,
        ordem_ids_distintos=distinct_ids,
        ordem_ids_nulos=nulls,
        ordem_ids_repetidos=duplicated,
        duplicados_exemplo=shown,
    )


def divergence_invariants(resumo: dict[str, Any]) -> list[dg.AssetCheckResult]:
    return [
        _result(
            SALDO_EXPLICADO,
            "divergencias",
            resumo["diferenca_nao_explicada"] == 0,
            total_csv=str(resumo["total_csv"]),
            total_base_escopo=str(resumo["total_base_escopo"]),
            total_explicado=str(resumo["total_explicado"]),
            diferenca_nao_explicada=str(resumo["diferenca_nao_explicada"]),
        ),
        _result(
            CASAMENTO_CSV,
            "divergencias",
            resumo["casadas"] + resumo["tipo_1"] == resumo["linhas_validas"],
            casadas=resumo["casadas"],
            tipo_1=resumo["tipo_1"],
            linhas_validas=resumo["linhas_validas"],
        ),
        _result(
            CASAMENTO_BASE,
            "divergencias",
            resumo["casadas"] + resumo["tipo_2"] == resumo["linhas_base_escopo"],
            casadas=resumo["casadas"],
            tipo_2=resumo["tipo_2"],
            linhas_base_escopo=resumo["linhas_base_escopo"],
        ),
    ]
