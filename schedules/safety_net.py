"""The daily safety net: at the file's deadline, start the run for any date the ingress sensor missed.

At ``RECON_FILE_DEADLINE`` (07:00 America/Sao_Paulo by default) on day D+1, if nothing materialized
``arquivos_fornecedor`` for D and no run for D is under way, the schedule requests the run for D,
tagged ``recon/origem=rede_de_seguranca``. If the file really is missing, that run fails at once with
"Nenhum arquivo *.csv para D" and ``alerta_falha_execucao`` sends one "arquivo ausente" alert; if the
file was there and only the sensor missed it, the day is simply processed. The run key makes a
repeated tick for the same date a no-op.
"""

from __future__ import annotations

import dagster as dg

from reconciliation_assets import clock
from reconciliation_assets.contract import (
    DEADLINE_TAG,
    IN_PROGRESS_STATUSES,
    ORIGIN_TAG,
    PARTITION_TAG,
    SAFETY_NET_ORIGIN,
)
from reconciliation_assets.partitions import daily_partitions
from resources.settings import Deadlines

SCHEDULE_NAME = "rede_de_seguranca_diaria"
IN_PROGRESS = [dg.DagsterRunStatus(status) for status in IN_PROGRESS_STATUSES]


def file_materialized(instance: dg.DagsterInstance, data_referencia: str) -> bool:
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey("arquivos_fornecedor"), asset_partitions=[data_referencia]
        ),
        limit=1,
    )
    return bool(result.records)


def run_in_progress(instance: dg.DagsterInstance, data_referencia: str) -> bool:
    return bool(
        instance.get_run_ids(
            filters=dg.RunsFilter(tags={PARTITION_TAG: data_referencia}, statuses=IN_PROGRESS), limit=1
        )
    )


def build_safety_net_schedule(
    job: dg.UnresolvedAssetJobDefinition, deadlines: Deadlines
) -> dg.ScheduleDefinition:
    """The schedule for ``job``, ticking at the file deadline in the deadlines' timezone."""

    @dg.schedule(
        name=SCHEDULE_NAME,
        job=job,
        cron_schedule=Deadlines.cron(deadlines.file_deadline),
        execution_timezone=deadlines.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"Às {deadlines.file_deadline} ({deadlines.timezone}), inicia a execução de D (= hoje - "
            f"{deadlines.days_after} dia) se nenhum arquivo de D foi processado; arquivo ausente gera alerta."
        ),
    )
    def rede_de_seguranca_diaria(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        when = context.scheduled_execution_time or clock.now()
        day = deadlines.reference_date_due_at(when).isoformat()
        if not daily_partitions.has_partition_key(day):
            return dg.SkipReason(f"{day} não é uma partição diária (antes de RECON_PARTITIONS_START?)")
        if file_materialized(context.instance, day):
            return dg.SkipReason(f"arquivo de {day} já processado")
        if run_in_progress(context.instance, day):
            return dg.SkipReason(f"execução de {day} em andamento")
        context.log.warning(
            f"nenhum arquivo processado para {day} até {deadlines.file_deadline}; iniciando a execução"
        )
        return dg.RunRequest(
            run_key=f"{SCHEDULE_NAME}:{day}",
            partition_key=day,
            tags={
                ORIGIN_TAG: SAFETY_NET_ORIGIN,
                DEADLINE_TAG: deadlines.deadline(day, "arquivo").isoformat(),
            },
        )

    return rede_de_seguranca_diaria
