"""The Dagster code location: ``reconciliation_assets.definitions:defs``."""

from __future__ import annotations

import gc

import dagster as dg

from checks.deadlines import with_freshness_policies
from reconciliation_assets.assets.audit import expectativas_divergencias
from reconciliation_assets.assets.divergences import divergencias
from reconciliation_assets.assets.internal_snapshot import base_interna_snapshot
from reconciliation_assets.assets.raw_files import arquivos_fornecedor
from reconciliation_assets.assets.report import relatorio_diario
from reconciliation_assets.assets.summary import resumo_conciliacao
from reconciliation_assets.assets.validated import validacao
from reconciliation_assets.checkpoint import checkpoint_step_done, checkpoint_step_failed
from reconciliation_assets.contract import AUDIT_JOB_NAME, JOB_NAME
from reconciliation_assets.partitions import daily_partitions
from reconciliation_assets.resources_config import build_resources
from schedules.safety_net import build_safety_net_schedule
from sensors.alerts import ALERT_SENSORS
from sensors.audit import auditoria_apos_publicacao
from sensors.ingress import ingresso_fornecedor

# The checkpoint hooks ride on the assets themselves, so every run that materialises them writes
# one: this job, the UI's partition launcher and asset backfills alike.
ASSETS = [
    asset.with_hooks({checkpoint_step_done, checkpoint_step_failed})
    for asset in (
        arquivos_fornecedor,
        validacao,
        base_interna_snapshot,
        divergencias,
        resumo_conciliacao,
        relatorio_diario,
    )
]

MAX_RUNTIME_SECONDS = 1200  # the 20-minute SLA; also run_monitoring.max_runtime_seconds for __ASSET_JOB

daily_reconciliation = dg.define_asset_job(
    JOB_NAME,
    # The GE audit is not part of the day's run: it reads what the run published, in its own run.
    selection=dg.AssetSelection.assets(*ASSETS) - dg.AssetSelection.checks(expectativas_divergencias),
    partitions_def=daily_partitions,
    executor_def=dg.in_process_executor,
    description="Concilia uma data de ponta a ponta: arquivos → validação → base interna → divergências e pendências → resumo → relatório diário.",
    tags={dg.MAX_RUNTIME_SECONDS_TAG: MAX_RUNTIME_SECONDS},
)


auditoria_expectativas = dg.define_asset_job(
    AUDIT_JOB_NAME,
    selection=dg.AssetSelection.checks(expectativas_divergencias),
    partitions_def=daily_partitions,  # a checks-only selection has no asset to infer it from
    executor_def=dg.in_process_executor,
    description="Auditoria Great Expectations de uma data publicada (sensor auditoria_apos_publicacao).",
)


def build_defs() -> dg.Definitions:
    """Everything the code location serves; resources read the environment when this runs."""
    resources = build_resources()
    # The Definitions-level executor is the one __ASSET_JOB uses (UI Materialize, asset backfills):
    # in-process like daily_reconciliation, so a date runs the same way whatever launched it. Their
    # runs carry no dagster/max_runtime tag: run_monitoring.max_runtime_seconds (1200 s in
    # dagster.yaml and deploy/dagster.production.yaml) is the same 20-minute limit for them.
    return dg.Definitions(
        executor=dg.in_process_executor,
        assets=with_freshness_policies(ASSETS, resources["deadlines"]),
        asset_checks=[expectativas_divergencias],
        jobs=[daily_reconciliation, auditoria_expectativas],
        resources=resources,
        schedules=[build_safety_net_schedule(daily_reconciliation, resources["deadlines"])],
        sensors=[ingresso_fornecedor, auditoria_apos_publicacao, *ALERT_SENSORS],
    )


defs = build_defs()

# Everything imported so far (Dagster, DuckDB, Polars, pyarrow, the definitions) lives as long as the
# process: move it out of the garbage collector's generations. Later collections then skip those
# millions of objects, and so does the interpreter's teardown, which otherwise spends ~1 s of every
# run worker's exit traversing them (measured: import + exit 3.05 s -> 2.1 s).
gc.freeze()
