"""Asset ``base_interna_snapshot``: the internal rows in scope for the date, normalised."""

from collections.abc import Iterator

import dagster as dg

from checks.invariants import BASE_CHECKS, unique_internal_ids
from reconciliation_assets import schemas
from reconciliation_assets.assets.common import GROUP, OWNERS, TAGS, WORK_AREA, StageTimer, step_files
from reconciliation_assets.engine.buckets import BucketedDay, bucket_count, query_by_bucket
from reconciliation_assets.engine.runners import open_runner
from reconciliation_assets.engine.sql_models import ModelRunner
from reconciliation_assets.observability import log_stage
from reconciliation_assets.partitions import daily_partitions
from reconciliation_assets.run_guard import asset_step
from reconciliation_assets.work_area import BaseInternaDoDia, TransacoesValidadas
from resources.internal_base import InternalBase
from resources.settings import DuckDBEngine, ReconRules
from resources.storage import ReconStorage


@dg.asset(
    partitions_def=daily_partitions,
    io_manager_key=WORK_AREA,
    group_name=GROUP,
    owners=OWNERS,
    tags=TAGS,
    kinds={"postgres", "duckdb", "parquet"},
    pool="base_interna",
    description=(
        "Uma linha por transação interna em escopo para a data: dentro da cobertura do arquivo, "
        "mais qualquer linha cujo ordem_id esteja no arquivo."
    ),
    metadata={"dagster/column_schema": schemas.BASE_INTERNA},
    check_specs=BASE_CHECKS,
)
def base_interna_snapshot(
    context: dg.AssetExecutionContext,
    transacoes_validadas: TransacoesValidadas,
    storage: ReconStorage,
    internal_base: InternalBase,
    duckdb_engine: DuckDBEngine,
    rules: ReconRules,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    with asset_step(context, rules, "base_interna_snapshot"):
        yield from _snapshot(context, transacoes_validadas, storage, internal_base, duckdb_engine)


def _snapshot(
    context: dg.AssetExecutionContext,
    validadas: TransacoesValidadas,
    storage: ReconStorage,
    internal_base: InternalBase,
    duckdb_engine: DuckDBEngine,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    timer = StageTimer()
    day = context.partition_key
    paths = step_files(context, storage.work_dir, validadas)
    engine = duckdb_engine.settings()
    # The scope's window is the file's coverage, computed once by validation (cobertura.sql).
    inicio, fim = validadas.coverage
    if inicio is None:
        context.log.warning(f"{day}: nenhuma linha válida; a cobertura é vazia e só linhas casadas entram.")
    # Transient faults (InternalBaseUnavailable) are retried by asset_step on the design's schedule;
    # a configuration error (InternalBaseError) fails at once with its own message.
    if engine.engine == "spark":
        raw_rows = internal_base.snapshot(inicio, fim, paths.validadas, paths.base_bruta, engine)
        # The normalisation (model base_interna) on Spark, from the extracted rows.
        with open_runner(engine) as normalising:
            normalising.register_parquet("base_bruta", paths.base_bruta)
            rows = normalising.copy_to_parquet("base_interna", paths.base_interna)
    else:
        # Read and normalised in one statement (models base_bruta then base_interna, one row each per
        # internal row): the rows read are the rows written.
        rows = raw_rows = internal_base.snapshot(
            inicio, fim, paths.validadas, paths.base_interna, engine, normalised=True
        )
    # The uniqueness check reads the written file with DuckDB, whichever engine wrote it.
    with ModelRunner(engine) as runner:
        # NULL (or blank) ordem_ids can be matched to nothing and make counts disagree: the check
        # fails on them as on duplicates. The sample is rendered in SQL, so a NULL shows as <nulo>.
        # By hash bucket of ordem_id (engine/buckets.py): a repeated ordem_id is always within one
        # bucket, so the counts add up and a distinct count over 100M rows never needs the memory.
        by_key = BucketedDay(runner, bucket_count(rows, engine.buckets), paths.baldes)
        by_key.add("base_interna", paths.base_interna)
        # One grouping per bucket gives the counts and the sample (it used to take two).
        per_bucket = query_by_bucket(
            by_key,
            ["base_interna"],
            "WITH por_ordem AS MATERIALIZED (SELECT ordem_id, count(*) AS n FROM base_interna GROUP BY ordem_id) "
            "SELECT (SELECT count(*) FROM por_ordem WHERE ordem_id <> ''), "
            "(SELECT coalesce(sum(n), 0) FROM por_ordem WHERE ordem_id IS NULL OR ordem_id = ''), "
            "(SELECT count(*) FROM por_ordem WHERE ordem_id <> '' AND n > 1), "
            "(SELECT list([ordem_id, exemplo] ORDER BY ordem_id NULLS FIRST) FROM ("
            "SELECT ordem_id, CASE WHEN ordem_id IS NULL THEN '<nulo>' WHEN ordem_id = '' THEN '<vazio>' "
            "ELSE left(ordem_id, 40) END AS exemplo FROM por_ordem "
            "WHERE n > 1 OR ordem_id IS NULL OR ordem_id = '' ORDER BY ordem_id NULLS FIRST LIMIT 5))",
        )
        distinct, nulls, duplicated = (sum(int(r[0][i]) for r in per_bucket) for i in range(3))
        # The first five in ordem_id order, NULL first, across the buckets.
        first = sorted(
            (tuple(pair) for r in per_bucket for pair in (r[0][3] or [])),
            key=lambda r: (r[0] is not None, r[0] or ""),
        )
        sample = [r[1] for r in first[:5]]
    timing = timer.metadata(rows)
    log_stage(
        context,
        "base_interna_snapshot",
        counts={
            "linhas_lidas": raw_rows,
            "linhas_escopo": rows,
            "ordem_ids_distintos": distinct,
            "ordem_ids_nulos": nulls,
        },
        duration_s=timing["duracao_s"].value,
        origem=internal_base.describe(),
        cobertura=[str(inicio), str(fim)],
    )
    yield dg.Output(
        BaseInternaDoDia(paths.root, linhas=rows),
        metadata={
            "dagster/row_count": rows,
            "linhas_lidas": raw_rows,
            "origem": internal_base.describe(),
            "cobertura_inicio": str(inicio),
            "cobertura_fim": str(fim),
            "dagster/uri": dg.MetadataValue.path(str(paths.base_interna)),
            **timing,
        },
    )
    yield unique_internal_ids(rows, distinct, sample, nulls=nulls, duplicated=duplicated)
