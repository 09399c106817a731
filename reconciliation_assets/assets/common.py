"""Small helpers shared by the asset modules (no business rules here)."""

from __future__ import annotations

import time
from typing import Any

import dagster as dg

from reconciliation_assets.contract import ARRIVAL_TAG
from reconciliation_assets.observability import markdown_table

__all__ = ["ARRIVAL_TAG", "GROUP", "OWNERS", "TAGS", "StageTimer", "markdown_table"]

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
