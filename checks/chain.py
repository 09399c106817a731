"""Checks on the chain of breaks across dates (SPEC 5.4).

* ``cadeia_pendencias`` (blocking): every open break of the previous state is on D exactly once
  (carried, recurring or resolved), every divergence of D is a ``NOVA`` or ``RECORRENTE`` break
  exactly once, and no ``pendencia_id`` repeats. The facts come from ``pendencias_resumo.sql``.
* ``cadeia_atual`` (WARN): D was computed from the current state of the latest earlier date. It
  fails on D when that state is itself stale, and it is re-evaluated for every later date when a
  past date is re-published (``report_later_dates``), so the UI shows them out of date.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from checks.invariants import spec
from reconciliation_assets.contract import CADEIA_ATUAL, CADEIA_PENDENCIAS

CHAIN_CHECKS = [
    spec(
        CADEIA_PENDENCIAS,
        "pendencias",
        "Toda pendência aberta do estado anterior está em D exatamente uma vez (carregada, recorrente ou "
        "resolvida) e toda divergência de D é uma pendência NOVA ou RECORRENTE exatamente uma vez.",
    ),
    spec(
        CADEIA_ATUAL,
        "pendencias",
        "D foi calculada sobre o estado atual da última data anterior; falha (WARN) nas datas posteriores "
        "quando uma data passada é re-executada com outro resultado, até serem re-executadas em ordem.",
        blocking=False,
    ),
]


def chain_check(facts: dict[str, Any], previous_day: str | None) -> dg.AssetCheckResult:
    passed = (
        facts["antes_sem_uma_linha"] == 0
        and facts["divergencias_sem_uma_abertura"] == 0
        and facts["pendencia_id_repetido"] == 0
    )
    return dg.AssetCheckResult(
        check_name=CADEIA_PENDENCIAS,
        asset_key=dg.AssetKey("pendencias"),
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "estado_anterior": previous_day or "nenhum (primeira data)",
            "abertas_no_estado_anterior": int(facts["abertas_antes"]),
            "abertas_anteriores_sem_exatamente_uma_linha": int(facts["antes_sem_uma_linha"]),
            "divergencias": int(facts["divergencias"]),
            "divergencias_sem_exatamente_uma_abertura": int(facts["divergencias_sem_uma_abertura"]),
            "pendencia_id_repetido": int(facts["pendencia_id_repetido"]),
        },
    )


def currency_check(status: dict[str, Any]) -> dg.AssetCheckResult:
    """D's own currency, evaluated in its run."""
    return dg.AssetCheckResult(
        check_name=CADEIA_ATUAL,
        asset_key=dg.AssetKey("pendencias"),
        passed=bool(status["atual"]),
        severity=dg.AssetCheckSeverity.WARN,
        description=status["motivo"],
        metadata=_metadata(status),
    )


def report_later_dates(
    instance: dg.DagsterInstance, run_id: str, job_name: str, statuses: list[dict[str, Any]]
) -> None:
    """Record the re-derived currency of later dates on their own partitions, in this run's log.

    Reported as this run's events (not runless ones: Dagster stores one runless evaluation per check
    and partition, and a second one fails on a unique constraint), so the alert names this run.
    """
    for status in statuses:
        evaluation = dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey("pendencias"),
            check_name=CADEIA_ATUAL,
            passed=bool(status["atual"]),
            severity=dg.AssetCheckSeverity.WARN,
            description=status["motivo"],
            metadata=_metadata(status),
            partition=status["data_referencia"],
            blocking=False,
        )
        instance.report_dagster_event(
            dg.DagsterEvent(
                event_type_value=dg.DagsterEventType.ASSET_CHECK_EVALUATION.value,
                job_name=job_name,
                event_specific_data=evaluation,
                message=f"cadeia_atual em {status['data_referencia']}: {status['motivo']}",
            ),
            run_id=run_id,
        )


def _metadata(status: dict[str, Any]) -> dict[str, Any]:
    previous = status.get("estado_anterior") or {}
    return {
        "atual": bool(status["atual"]),
        "motivo": status["motivo"],
        "estado_anterior": previous.get("data_referencia") or "nenhum",
        "avaliada_em": status["avaliada_em"],
    }
