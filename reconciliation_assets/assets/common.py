"""Small helpers shared by the asset modules (no business rules here)."""

from __future__ import annotations

import time
from typing import Any

import dagster as dg

from reconciliation_assets.contract import ARRIVAL_TAG, WORK_AREA
from reconciliation_assets.day_paths import DayPaths, step_paths
from reconciliation_assets.observability import markdown_table
from reconciliation_assets.work_area import WorkOutput

__all__ = [
    "ARRIVAL_TAG",
    "GROUP",
    "OWNERS",
    "TAGS",
    "WORK_AREA",
    "StageTimer",
    "markdown_table",
    "step_files",
]

GROUP = "conciliacao"
OWNERS = ["team:conciliacao"]
TAGS = {"domain": "financeiro"}


class StageTimer:
    """Measures one stage so its duration and throughput become numeric metadata the UI plots."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def metadata(self, rows: int) -> dict[str, Any]:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        return {
            "duracao_s": dg.MetadataValue.float(round(elapsed, 3)),
            "linhas_por_s": dg.MetadataValue.float(round(rows / elapsed, 1)),
        }


def step_files(context: dg.AssetExecutionContext, work_dir: str, *inputs: WorkOutput) -> DayPaths:
    """D's work area as this step may use it: its inputs' files and its own outputs', nothing else.

    Stops with what happened and what to do when an input was not produced: Dagster's asset backfill
    can launch a later step of D in a run of its own, queued before the run of D's earlier steps
    (seen with the self-dependency of ``pendencias``).
    """
    day = context.partition_key
    missing = [f"{i.ASSET} ({', '.join(i.missing())})" for i in inputs if i.missing()]
    if missing:
        raise dg.Failure(
            description=(
                f"{day}: as entradas deste passo ainda não existem ou mudaram depois de registradas "
                f"({'; '.join(missing)}): os passos anteriores da data não terminaram antes dele. "
                "Acontece quando um backfill divide a data em duas execuções; a nova tentativa da "
                "execução (tags dagster/max_retries e dagster/retry_on_asset_or_op_failure no "
                "backfill) ou uma re-execução da data resolve."
            ),
            metadata={"entradas_ausentes": "; ".join(missing)},
            allow_retries=True,
        )
    own = [key.to_user_string() for key in context.assets_def.keys]
    return step_paths(DayPaths.for_date(work_dir, day).root, [*own, *(i.ASSET for i in inputs)])
