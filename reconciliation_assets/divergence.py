"""Step 4: divergences and the day's summary (rules in dbt_like_sql/divergencias.sql, resumo_conciliacao.sql)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner


def compute_divergences(
    paths: DayPaths,
    *,
    job_id: str,
    started_at: datetime,
    arrived_at: datetime,
    severity_high: Decimal,
    severity_medium: Decimal,
    sla_minutes: int,
    engine: EngineSettings,
) -> dict[str, Any]:
    """Write the divergence table and the one-row summary to the day's work folder; return the summary."""
    computed_at = datetime.now(tz=started_at.tzinfo)
    with ModelRunner(engine) as runner:
        runner.register_parquet("validadas", paths.validadas)
        runner.register_parquet("base_interna", paths.base_interna)
        runner.register_parquet("estatisticas_linhas", paths.estatisticas)
        runner.copy_to_parquet(
            "divergencias",
            paths.divergencias,
            {
                "severidade_high": str(severity_high),
                "severidade_medium": str(severity_medium),
                "job_id": job_id,
                "calculado_em": computed_at,
            },
        )
        runner.register_parquet("divergencias", paths.divergencias)
        finished_at = datetime.now(tz=started_at.tzinfo)
        runner.copy_to_parquet(
            "resumo_conciliacao",
            paths.resumo,
            {
                "job_id": job_id,
                "started_at": started_at,
                "finished_at": finished_at,
                "arquivo_chegou_em": arrived_at,
                "sla_minutos": sla_minutes,
            },
        )
        runner.register_parquet("resumo_calculado", paths.resumo)
        return runner.query_dicts("SELECT * FROM resumo_calculado")[0]
