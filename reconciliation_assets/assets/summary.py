"""Asset ``resumo_conciliacao``: the one-row summary of the date, published after the divergences."""

import dagster as dg

from reconciliation_assets import schemas
from reconciliation_assets.assets.common import GROUP, OWNERS, TAGS, StageTimer, step_files
from reconciliation_assets.engine.sql_models import ModelRunner
from reconciliation_assets.observability import log_stage
from reconciliation_assets.partitions import daily_partitions
from reconciliation_assets.work_area import DivergenciasDoDia
from resources.settings import DuckDBEngine
from resources.storage import ReconStorage


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    owners=OWNERS,
    tags=TAGS,
    kinds={"duckdb", "parquet"},
    description="Uma linha por data: contagens, taxa de divergência, cobertura, SLA e controle de saldo.",
    metadata={"dagster/column_schema": schemas.RESUMO},
)
def resumo_conciliacao(
    context: dg.AssetExecutionContext,
    divergencias: DivergenciasDoDia,
    storage: ReconStorage,
    duckdb_engine: DuckDBEngine,
) -> dg.MaterializeResult:
    timer = StageTimer()
    day = context.partition_key
    paths = step_files(context, storage.work_dir, divergencias)
    with ModelRunner(duckdb_engine.settings()) as runner:
        runner.register_parquet("resumo", paths.resumo)
        resumo = runner.query_dicts("SELECT * FROM resumo")[0]
    # Published with the rest of D by the divergencias step (publication.py); this records it.
    numeric = {
        k: (float(v) if not isinstance(v, int | bool) else v)
        for k, v in resumo.items()
        if isinstance(v, int | float) or type(v).__name__ == "Decimal"
    }
    timing = timer.metadata(1)
    log_stage(
        context,
        "resumo_conciliacao",
        counts={k: v for k, v in numeric.items() if isinstance(v, int) and not isinstance(v, bool)},
        duration_s=timing["duracao_s"].value,
        taxa_divergencia=float(resumo["taxa_divergencia"]),
        diferenca_nao_explicada=str(resumo["diferenca_nao_explicada"]),
        sla_cumprido=bool(resumo["sla_cumprido"]),
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": 1,
            "dagster/uri": dg.MetadataValue.path(storage.table_uri("resumo_conciliacao", day)),
            **numeric,
            "sla_cumprido": bool(resumo["sla_cumprido"]),
            "sla_prazo": str(resumo["sla_prazo"]),
            **timing,
        }
    )
