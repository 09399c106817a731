"""Small helpers shared by the asset modules (no business rules here)."""

from __future__ import annotations

import time
from typing import Any

import dagster as dg

GROUP = "conciliacao"
OWNERS = ["team:conciliacao"]
TAGS = {"domain": "financeiro"}
ARRIVAL_TAG = "recon/arquivo_chegou_em"


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


def markdown_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "_(vazio)_"
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(r[h]).replace("|", "\\|") for h in headers) + " |" for r in rows]
    return "\n".join(lines)
