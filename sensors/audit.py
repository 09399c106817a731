"""Sensor ``auditoria_apos_publicacao``: each published date gets its Great Expectations audit.

Reads every ``divergencias`` materialization after its cursor (the event log's storage id), oldest
first, and for each that says ``publicada=True`` requests the checks-only job
``auditoria_expectativas`` for that date. A backfill that publishes 30 dates between two ticks gets 30
audits (Dagster's ``asset_sensor`` would see only the latest). The run key is the publishing run's id:
a date published twice is audited twice, a re-read tick requests nothing new. The first tick of a
new deployment (no cursor) audits only the last day's publications, not the whole history.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from reconciliation_assets import clock
from reconciliation_assets.contract import AUDIT_JOB_NAME, PARTITION_TAG

SENSOR_NAME = "auditoria_apos_publicacao"
BATCH = 200  # materializations read per tick; the rest are read by the next ticks
FIRST_TICK_LOOKBACK = timedelta(days=1)
PUBLISHED_BY_TAG = "recon/publicada_pelo_job"


@dg.sensor(
    name=SENSOR_NAME,
    job_name=AUDIT_JOB_NAME,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Depois de cada publicação de D: auditoria Great Expectations da tabela publicada (não bloqueia).",
)
def auditoria_apos_publicacao(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    after = int(context.cursor) if context.cursor and context.cursor.isdigit() else None
    # The first tick starts from the newest materializations (and keeps only the last day's), so
    # the cursor lands past the whole history; later ticks read forward from the cursor.
    records = list(
        context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("divergencias"), after_storage_id=after),
            limit=BATCH,
            ascending=after is not None,
        ).records
    )
    if after is None:
        records.reverse()  # oldest first, like the later ticks
        since = (clock.now() - FIRST_TICK_LOOKBACK).timestamp()
        to_audit = [r for r in records if r.timestamp >= since]
    else:
        to_audit = records
    requests = []
    for record in to_audit:
        event = record.asset_materialization
        published = event is not None and getattr(event.metadata.get("publicada"), "value", False) is True
        if published and event is not None and event.partition:
            requests.append(
                # The date as the partition tag, not partition_key: Dagster 1.13 cannot resolve the
                # partitions of a checks-only job from a partition_key (no asset to infer them from).
                dg.RunRequest(
                    run_key=f"{event.partition}@{record.run_id}",
                    tags={PARTITION_TAG: event.partition, PUBLISHED_BY_TAG: record.run_id},
                )
            )
    cursor = str(records[-1].storage_id) if records else context.cursor
    if requests:
        return dg.SensorResult(run_requests=requests, cursor=cursor)
    return dg.SensorResult(
        skip_reason=f"{len(records)} materializações lidas; nenhuma publicação nova", cursor=cursor
    )
