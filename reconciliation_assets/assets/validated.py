"""Assets ``transacoes_validadas`` and ``quarentena``: every data line ends in exactly one of them."""

from collections.abc import Iterator

import dagster as dg

from checks.invariants import VALIDADAS_CHECKS, line_accounting
from checks.quality import VALIDACAO_QUALITY_CHECKS, quarantine_rate, validated_schema_check
from reconciliation_assets import schemas
from reconciliation_assets.assets.common import GROUP, OWNERS, TAGS, WORK_AREA, StageTimer, step_files
from reconciliation_assets.observability import log_stage, threshold_metadata
from reconciliation_assets.partitions import daily_partitions
from reconciliation_assets.run_guard import asset_step
from reconciliation_assets.validation import validate_day
from reconciliation_assets.work_area import ArquivosDoDia, QuarentenaDoDia, TransacoesValidadas
from resources.settings import DuckDBEngine, ReconRules
from resources.storage import ReconStorage

REASONS = (
    "MALFORMED_ROW",
    "MISSING_FIELD",
    "INVALID_VALOR",
    "INVALID_DATA",
    "DATE_OUT_OF_RANGE",
    "DUPLICATE_ORDEM_ID",
)


@dg.multi_asset(
    partitions_def=daily_partitions,
    specs=[
        dg.AssetSpec(
            "transacoes_validadas",
            deps=["arquivos_fornecedor"],
            group_name=GROUP,
            owners=OWNERS,
            tags=TAGS,
            kinds={"duckdb", "parquet"},
            description="Uma linha por transação válida do dia (ordem_id único), normalizada e tipada.",
            metadata={"dagster/column_schema": schemas.VALIDADAS},
        ).with_io_manager_key(WORK_AREA),
        dg.AssetSpec(
            "quarentena",
            deps=["arquivos_fornecedor"],
            group_name=GROUP,
            owners=OWNERS,
            tags=TAGS,
            kinds={"duckdb", "parquet"},
            description="Uma linha por linha rejeitada do arquivo, com arquivo, linha física, conteúdo, motivo e detalhe.",
            metadata={"dagster/column_schema": schemas.QUARENTENA},
        ).with_io_manager_key(WORK_AREA),
    ],
    check_specs=[*VALIDADAS_CHECKS, *VALIDACAO_QUALITY_CHECKS],
)
def validacao(
    context: dg.AssetExecutionContext,
    arquivos_fornecedor: ArquivosDoDia,
    storage: ReconStorage,
    rules: ReconRules,
    duckdb_engine: DuckDBEngine,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    with asset_step(context, rules, "validacao"):
        yield from _validate(context, arquivos_fornecedor, storage, rules, duckdb_engine)


def _validate(
    context: dg.AssetExecutionContext,
    arquivos: ArquivosDoDia,
    storage: ReconStorage,
    rules: ReconRules,
    duckdb_engine: DuckDBEngine,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Classify the lines; the quarantine is published later, with the rest of D (publication.py)."""
    timer = StageTimer()
    day = context.partition_key
    paths = step_files(context, storage.work_dir, arquivos)
    stats = validate_day(paths, day, rules.max_age_days, duckdb_engine.settings())
    check = line_accounting(stats)
    schema_check = validated_schema_check(paths.validadas, day, rules.max_age_days)
    rate_check = quarantine_rate(stats, rules.quarantine_rate_max)
    quarantined = stats["linhas_quarentena"]
    timing = timer.metadata(stats["linhas_csv"])
    rate = quarantined / stats["linhas_csv"] if stats["linhas_csv"] else 0.0
    inicio, fim = stats["cobertura_inicio"], stats["cobertura_fim"]
    yield dg.Output(
        TransacoesValidadas(
            paths.root,
            linhas=stats["linhas_validas"],
            cobertura_inicio=None if inicio is None else inicio.isoformat(),
            cobertura_fim=None if fim is None else fim.isoformat(),
        ),
        output_name="transacoes_validadas",
        metadata={
            "dagster/row_count": stats["linhas_validas"],
            "dagster/uri": dg.MetadataValue.path(str(paths.validadas)),
            "linhas_csv": stats["linhas_csv"],
            "linhas_em_branco": stats["linhas_em_branco"],
            "cobertura_inicio": str(stats["cobertura_inicio"]),
            "cobertura_fim": str(stats["cobertura_fim"]),
            **timing,
        },
    )
    yield dg.Output(
        QuarentenaDoDia(paths.root, linhas=quarantined),
        output_name="quarentena",
        metadata={
            "dagster/row_count": quarantined,
            "dagster/uri": dg.MetadataValue.path(storage.table_uri("quarentena", day)),
            "taxa_quarentena": dg.MetadataValue.float(round(rate, 6)),
            **threshold_metadata(taxa_quarentena=rate, quarantine_rate_max=rules.quarantine_rate_max),
            **{f"motivo_{r.lower()}": int(stats["por_motivo"].get(r, 0)) for r in REASONS},
        },
    )
    log_stage(
        context,
        "validacao",
        counts={
            "linhas_csv": stats["linhas_csv"],
            "linhas_validas": stats["linhas_validas"],
            "linhas_quarentena": quarantined,
            "linhas_em_branco": stats["linhas_em_branco"],
        },
        duration_s=timing["duracao_s"].value,
        taxa_quarentena=round(rate, 6),
        checagens={c.check_name: c.passed for c in (check, schema_check, rate_check)},
    )
    yield check
    yield schema_check
    yield rate_check
