"""Step 2: classify every data line as valid or quarantined (rules in dbt_like_sql/linhas_*.sql).

Lines are evaluated in one streaming pass to Parquet; on DuckDB the raw line is kept only where it
is already quarantined (engine/line_passes.py); only the (rare) repeated ordem_ids are held in
memory, so the step's memory does not grow with the file.
"""

from __future__ import annotations

from typing import Any

from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.engine.line_passes import (
    materialize_repeated_orders,
    register_quarantine_candidates,
    write_evaluated_lines,
)
from reconciliation_assets.engine.runners import open_runner
from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner


def validate_day(
    paths: DayPaths, data_referencia: str, max_age_days: int, engine: EngineSettings
) -> dict[str, Any]:
    """Write validadas, quarentena and the line accounting for the day; return the accounting row.

    The row also holds the rows actually written to each file (``*_gravadas``): the line-accounting
    check compares those, not only the classification's own counts, so a line lost between the
    classification and the files cannot pass unnoticed.
    """
    params = {"data_referencia": data_referencia, "max_age_days": max_age_days}
    with open_runner(engine) as runner:
        runner.register_parquet("linhas", paths.linhas)
        runner.register_parquet("arquivos", paths.arquivos)
        # DuckDB: the same models with fewer passes over the lines (engine/line_passes.py); any other
        # engine runs them as written.
        if isinstance(runner, ModelRunner):
            write_evaluated_lines(runner, paths.avaliadas, params)
            materialize_repeated_orders(runner, "linhas_avaliadas", paths.avaliadas)
        else:
            runner.copy_to_parquet("linhas_avaliadas", paths.avaliadas, params)
            runner.register_parquet("linhas_avaliadas", paths.avaliadas)
            runner.materialize("ordens_repetidas")
        runner.register_model_view("linhas_classificadas")
        written_valid = runner.copy_to_parquet("validadas", paths.validadas)
        runner.copy_to_parquet("estatisticas_linhas", paths.estatisticas)
        runner.register_parquet("estatisticas", paths.estatisticas)
        stats = runner.query_dicts("SELECT * FROM estatisticas")[0]
        if isinstance(runner, ModelRunner):
            # The quarantine from the lines that can be in it, with their raw text.
            register_quarantine_candidates(runner, "linhas_avaliadas", paths.avaliadas)
        written_quarantine = runner.copy_to_parquet("quarentena", paths.quarentena)
        stats["linhas_validas_gravadas"] = written_valid
        stats["linhas_quarentena_gravadas"] = written_quarantine
        runner.register_parquet("quarentena_dia", paths.quarentena)
        stats["por_motivo"] = dict(
            runner.query("SELECT motivo, count(*) FROM quarentena_dia GROUP BY 1 ORDER BY 1")
        )
        # The file's coverage (model cobertura.sql), computed here once: later steps receive it.
        runner.register_parquet("validadas", paths.validadas)
        runner.materialize("cobertura")
        ((stats["cobertura_inicio"], stats["cobertura_fim"]),) = runner.query(
            "SELECT inicio, fim FROM cobertura"
        )
    return stats
