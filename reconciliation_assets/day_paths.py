"""Where one reference date's intermediate files live in the local work folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DayPaths:
    """Intermediates for date D, keyed by date (not run) so a re-execution from failure finds them."""

    root: Path

    @classmethod
    def for_date(cls, work_dir: str | Path, data_referencia: str) -> DayPaths:
        return cls(Path(work_dir) / f"data_referencia={data_referencia}")

    @property
    def inputs(self) -> Path:
        return self.root / "entrada"

    @property
    def linhas(self) -> Path:
        return self.root / "linhas.parquet"

    @property
    def arquivos(self) -> Path:
        return self.root / "arquivos.parquet"

    @property
    def avaliadas(self) -> Path:
        return self.root / "linhas_avaliadas.parquet"

    @property
    def validadas(self) -> Path:
        return self.root / "validadas.parquet"

    @property
    def quarentena(self) -> Path:
        return self.root / "quarentena.parquet"

    @property
    def estatisticas(self) -> Path:
        return self.root / "estatisticas_linhas.parquet"

    @property
    def base_bruta(self) -> Path:
        return self.root / "base_bruta.parquet"

    @property
    def base_interna(self) -> Path:
        return self.root / "base_interna.parquet"

    @property
    def divergencias(self) -> Path:
        return self.root / "divergencias.parquet"

    @property
    def resumo(self) -> Path:
        return self.root / "resumo_conciliacao.parquet"

    @property
    def pendencias(self) -> Path:
        return self.root / "pendencias.parquet"

    @property
    def baldes(self) -> Path:
        """The day's inputs split by a hash of ordem_id and each bucketed model's parts (engine/buckets.py)."""
        return self.root / "baldes"

    @property
    def estado_anterior(self) -> Path:
        return self.root / "estado_anterior"
