"""Step 2: classify every data line as valid or quarantined (rules in dbt_like_sql/linhas_*.sql).

Lines are evaluated in one streaming pass to Parquet, keeping the raw line only where it is
already quarantined (engine/line_passes.py); only the (rare) repeated ordem_ids are held in memory,
so the step's memory does not grow with the file.
"""

from __future__ import annotations

from typing import Any

from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.engine.line_passes import (
    materialize_repeated_orders,
    register_quarantine_candidates,
    write_evaluated_lines,
)
from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner


def validate_day(
    paths: DayPaths, data_referencia: str, max_age_days: int, engine: EngineSettings
) -> dict[str, Any]:
    """Write validadas, quarentena and the line accounting for the day; return the accounting row."""
    params = {"data_referencia": data_referencia, "max_age_days": max_age_days}
    with ModelRunner(engine) as runner:
        runner.register_parquet("linhas", paths.linhas)
        runner.register_parquet("arquivos", paths.arquivos)
        write_evaluated_lines(runner, paths.avaliadas, params)
        materialize_repeated_orders(runner, "linhas_avaliadas", paths.avaliadas)
        runner.register_model_view("linhas_classificadas")
        runner.copy_to_parquet("validadas", paths.validadas)
        runner.copy_to_parquet("estatisticas_linhas", paths.estatisticas)
        runner.register_parquet("estatisticas", paths.estatisticas)
        stats = runner.query_dicts("SELECT * FROM estatisticas")[0]
        # The quarantine from the lines that can be in it, with their raw text.
        register_quarantine_candidates(runner, "linhas_avaliadas", paths.avaliadas)
        runner.copy_to_parquet("quarentena", paths.quarentena)
        runner.register_parquet("quarentena_dia", paths.quarentena)
        stats["por_motivo"] = dict(
            runner.query("SELECT motivo, count(*) FROM quarentena_dia GROUP BY 1 ORDER BY 1")
        )
        runner.register_parquet("validadas_dia", paths.validadas)
        stats["cobertura_inicio"], stats["cobertura_fim"] = runner.query(
            "SELECT min(data), max(data) FROM validadas_dia"
        )[0]
    return stats
