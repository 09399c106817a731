"""Time promises: the 20-minute SLA, the per-date deadline, and the cron freshness policies.

* ``sla_publicacao`` — from the file's arrival to the divergences being published, at most
  ``sla_minutes`` (20); from ``sla_warn_minutes`` (18) the check fails with WARN, past 20 with ERROR.
* ``publicada_no_prazo`` — date D's divergences published by its deadline (D+1 at 07:20 local by
  default). Dagster's freshness policy is asset-level, not per partition (DAGSTER_NOTES item 1), so
  this check is the partition-aware record of the promise.

Both measure the *first* publication of D that counts: a manual re-run an hour later does not turn
an SLA that was met into a breach. Neither blocks: late data is still better than no data.

When they apply (``deadline_applies``): only runs that serve a day's SLA are measured against it.

* a run with a ``dagster/backfill`` tag never (deliberate work on the past, whatever its dates);
* otherwise a run requested by the ingress sensor (tag ``recon/arquivo_chegou_em``: a file landed,
  the 20-minute clock is running) always, even for an old date (a late file is a missed deadline);
* otherwise (UI Materialize, ``dagster job execute``, the safety-net schedule) only when D is the
  date currently due or later: D >= the reference date whose deadline falls on today's local day.
  A manual re-run of an older date is not measured.

A check that does not apply passes with ``aplica=false`` and a description saying why, so the
partition's check history stays readable and nothing alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from checks.invariants import spec
from reconciliation_assets import clock
from reconciliation_assets.contract import ARRIVAL_TAG, BACKFILL_TAG, PUBLICADA_NO_PRAZO, SLA_PUBLICACAO
from reconciliation_assets.observability import PROCESSING_TIME_SEVERITY, SEVERITY_OK, SLA_BREACH_SEVERITY
from reconciliation_assets.sla import sla_status
from resources.settings import Deadlines

MAX_PUBLICATIONS_SCANNED = 100

DEADLINE_CHECKS = [
    spec(
        SLA_PUBLICACAO,
        "divergencias",
        "Da chegada do arquivo (tag recon/arquivo_chegou_em, senão o mtime mais novo) à publicação das "
        "divergências: até 18 min passa, até 20 min WARN, depois ERROR (SLA estourado).",
        blocking=False,
    ),
    spec(
        PUBLICADA_NO_PRAZO,
        "divergencias",
        "A data D teve suas divergências publicadas até o prazo (D+1 às 07:20 America/Sao_Paulo por padrão).",
        blocking=False,
    ),
]


def freshness_policies(deadlines: Deadlines) -> dict[str, dg.FreshnessPolicy]:
    """Cron policies evaluated by Dagster's freshness daemon: the file by 07:00, divergences by 07:20."""
    window = timedelta(hours=24)
    return {
        "arquivos_fornecedor": dg.FreshnessPolicy.cron(
            deadline_cron=Deadlines.cron(deadlines.file_deadline),
            lower_bound_delta=window,
            timezone=deadlines.timezone,
        ),
        "divergencias": dg.FreshnessPolicy.cron(
            deadline_cron=Deadlines.cron(deadlines.divergences_deadline),
            lower_bound_delta=window,
            timezone=deadlines.timezone,
        ),
    }


def with_freshness_policies(assets: list[Any], deadlines: Deadlines) -> list[Any]:
    """``assets`` with the cron policies attached to the specs they name (others untouched)."""
    policies = {dg.AssetKey(k): v for k, v in freshness_policies(deadlines).items()}

    def attach(asset_spec: dg.AssetSpec) -> dg.AssetSpec:
        policy = policies.get(asset_spec.key)
        return dg.apply_freshness_policy(asset_spec, policy) if policy else asset_spec

    return [a.map_asset_specs(attach) if any(k in policies for k in a.keys) else a for a in assets]


def earlier_publications(instance: dg.DagsterInstance, data_referencia: str) -> list[datetime]:
    """When D's divergences were published before this run (materializations with ``publicada``)."""
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("divergencias"), asset_partitions=[data_referencia]),
        limit=MAX_PUBLICATIONS_SCANNED,
        ascending=True,
    )
    out = []
    for record in result.records:
        metadata = record.asset_materialization.metadata if record.asset_materialization else {}
        flag = metadata.get("publicada")
        if flag is not None and getattr(flag, "value", flag) is True:
            # The instant the publishing run judged itself by; the event's own time for older records.
            instant = metadata.get("publicada_em")
            text = str(getattr(instant, "value", instant) or "")
            out.append(
                datetime.fromisoformat(text) if text else datetime.fromtimestamp(record.timestamp, tz=UTC)
            )
    return out


def deadline_applies(
    tags: Mapping[str, str], data_referencia: str, deadlines: Deadlines, now: datetime | None = None
) -> tuple[bool, str]:
    """Whether this run serves D's SLA (see the module docstring), and why, in one sentence."""
    now = now or clock.now()
    if tags.get(BACKFILL_TAG):
        return False, (
            f"backfill {tags[BACKFILL_TAG]}: trabalho deliberado sobre o passado, não mede o SLA nem o prazo de "
            f"{data_referencia}"
        )
    if tags.get(ARRIVAL_TAG):
        return True, f"execução pedida pelo sensor de ingresso (arquivo chegou em {tags[ARRIVAL_TAG]})"
    current = deadlines.reference_date_due_at(now)
    if date.fromisoformat(data_referencia) >= current:
        return True, f"{data_referencia} é a data em vigor (a data com prazo hoje é {current.isoformat()})"
    return False, (
        f"reexecução manual de {data_referencia}, data passada (a data com prazo hoje é {current.isoformat()}) "
        "sem chegada de arquivo: não mede o SLA nem o prazo"
    )


def not_applicable(check_name: str, reason: str) -> dg.AssetCheckResult:
    """A deadline check for a run that does not serve the day's SLA: passes, says why."""
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key=dg.AssetKey("divergencias"),
        passed=True,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"não se aplica: {reason}",
        metadata={"aplica": False, "motivo": reason, "severidade_alerta": SEVERITY_OK},
    )


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


def sla_check(
    *,
    arrived_at: datetime,
    published_at: datetime | None,
    earlier: list[datetime],
    sla_minutes: int,
    warn_minutes: int,
    now: datetime | None = None,
) -> dg.AssetCheckResult:
    """Minutes from arrival to the first publication at or after it (``reconciliation_assets.sla``:
    the same verdict the summary publishes as ``sla_cumprido``)."""
    status = sla_status(
        arrived_at=arrived_at,
        publication=published_at,
        earlier=earlier,
        sla_minutes=sla_minutes,
        warn_minutes=warn_minutes,
        now=now,
    )
    arrived_at, first, minutes, level = (
        status.arrived_at,
        status.first_publication,
        status.minutes,
        status.level,
    )
    if level == "nao_publicada":
        passed = False
        severity = dg.AssetCheckSeverity.ERROR if minutes > sla_minutes else dg.AssetCheckSeverity.WARN
        text = f"divergências não publicadas nesta execução, {minutes:.1f} min após a chegada do arquivo"
    elif level == "ok":
        passed, severity = True, dg.AssetCheckSeverity.WARN
        text = f"publicadas {minutes:.1f} min após a chegada (limite {sla_minutes} min)"
    elif level == "aviso":
        passed, severity = False, dg.AssetCheckSeverity.WARN
        text = f"publicadas {minutes:.1f} min após a chegada: acima do aviso de {warn_minutes} min"
    else:
        passed, severity = False, dg.AssetCheckSeverity.ERROR
        text = f"SLA estourado: publicadas {minutes:.1f} min após a chegada (limite {sla_minutes} min)"
    alert = {
        "ok": SEVERITY_OK,
        "aviso": PROCESSING_TIME_SEVERITY,
        "estouro": SLA_BREACH_SEVERITY,
    }.get(level, SLA_BREACH_SEVERITY if minutes > sla_minutes else PROCESSING_TIME_SEVERITY)
    return dg.AssetCheckResult(
        check_name=SLA_PUBLICACAO,
        asset_key=dg.AssetKey("divergencias"),
        passed=passed,
        severity=severity,
        description=text,
        metadata={
            "arquivo_chegou_em": _iso(arrived_at),
            "publicada_em": _iso(first),
            "publicada": first is not None,
            "prazo_sla": _iso(arrived_at + timedelta(minutes=sla_minutes)),
            "aviso_em": _iso(arrived_at + timedelta(minutes=warn_minutes)),
            "minutos_ate_publicacao": dg.MetadataValue.float(round(minutes, 2)),
            "limite_min": sla_minutes,
            "aviso_min": warn_minutes,
            "nivel": level,
            "severidade_alerta": alert,
            "aplica": True,
        },
    )


def deadline_check(
    *,
    data_referencia: str,
    deadlines: Deadlines,
    published_at: datetime | None,
    earlier: list[datetime],
    now: datetime | None = None,
) -> dg.AssetCheckResult:
    """Whether D's first publication (earlier runs included) happened by D's deadline."""
    now = now or clock.now()
    due = deadlines.deadline(data_referencia, "divergencias")
    candidates = earlier + ([published_at] if published_at else [])
    first = min(candidates) if candidates else None
    passed = first is not None and first <= due
    late_min = ((first or now) - due).total_seconds() / 60
    if passed:
        text = f"{data_referencia} publicada em {_iso(first)}, dentro do prazo {_iso(due)}"
    elif first is None:
        text = f"{data_referencia} ainda não publicada; prazo {_iso(due)}" + (
            f" vencido há {late_min:.0f} min" if late_min > 0 else ""
        )
    else:
        text = f"{data_referencia} publicada {late_min:.0f} min após o prazo {_iso(due)}"
    return dg.AssetCheckResult(
        check_name=PUBLICADA_NO_PRAZO,
        asset_key=dg.AssetKey("divergencias"),
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=text,
        metadata={
            "prazo": _iso(due),
            "publicada_em": _iso(first),
            "publicada": first is not None,
            "minutos_apos_prazo": dg.MetadataValue.float(round(max(late_min, 0.0), 1)),
            "publicacoes_anteriores": len(earlier),
            "severidade_alerta": SEVERITY_OK if passed else "HIGH",
            "aplica": True,
        },
    )
