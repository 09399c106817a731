"""Step 2: classify every data line as valid or quarantined (rules in dbt_like_sql/linhas_classificadas.sql)."""

from __future__ import annotations

from typing import Any

from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner


def validate_day(
    paths: DayPaths, data_referencia: str, max_age_days: int, engine: EngineSettings
) -> dict[str, Any]:
    """Write validadas, quarentena and the line accounting for the day; return the accounting row."""
    params = {"data_referencia": data_referencia, "max_age_days": max_age_days}
    with ModelRunner(engine) as runner:
        runner.register_parquet("linhas", paths.linhas)
        runner.register_parquet("arquivos", paths.arquivos)
        runner.materialize("linhas_classificadas", params)
        runner.copy_to_parquet("validadas", paths.validadas)
        runner.copy_to_parquet("quarentena", paths.quarentena)
        runner.copy_to_parquet("estatisticas_linhas", paths.estatisticas)
        stats = runner.query_dicts(f"SELECT * FROM read_parquet('{paths.estatisticas}')")[0]
        stats["por_motivo"] = dict(
            runner.query(
                "SELECT motivo, count(*) FROM linhas_classificadas WHERE motivo IS NOT NULL GROUP BY 1 ORDER BY 1"
            )
        )
        coverage = runner.query("SELECT min(data), max(data) FROM linhas_classificadas WHERE motivo IS NULL")[
            0
        ]
    stats["cobertura_inicio"], stats["cobertura_fim"] = coverage
    return stats
