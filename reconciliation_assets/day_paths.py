"""Where one reference date's intermediate files live in the local work folder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Which asset writes each file of the date's work area. A step reads only the files of the assets it
# declares as inputs (``step_paths``), so its lineage in Dagster is what it really reads.
OWNER = {
    "inputs": "arquivos_fornecedor",
    "linhas": "arquivos_fornecedor",
    "arquivos": "arquivos_fornecedor",
    "avaliadas": "transacoes_validadas",
    "validadas": "transacoes_validadas",
    "estatisticas": "transacoes_validadas",
    "quarentena": "quarentena",
    "base_bruta": "base_interna_snapshot",
    "base_interna": "base_interna_snapshot",
    "divergencias": "divergencias",
    "resumo": "divergencias",
    "pendencias": "pendencias",
    "estado_anterior": "pendencias",
    # The engine's cache of the day's sides cut by hash bucket, keyed by each source's identity
    # (engine/buckets.py): any step may reuse it, none owns it.
    "baldes": None,
}


class UndeclaredInput(AttributeError):
    """A step touched a file of an asset it does not declare as an input: its lineage would lie."""


@dataclass(frozen=True)
class DayPaths:
    """Intermediates for date D, keyed by date (not run) so a re-execution from failure finds them.

    ``assets``: when set, only the files those assets own are reachable (``step_paths``).
    """

    root: Path
    assets: frozenset[str] | None = None

    @classmethod
    def for_date(cls, work_dir: str | Path, data_referencia: str) -> DayPaths:
        return cls(Path(work_dir) / f"data_referencia={data_referencia}")

    def _file(self, name: str, relative: str) -> Path:
        owner = OWNER[name]
        if self.assets is not None and owner is not None and owner not in self.assets:
            raise UndeclaredInput(
                f"{relative} pertence ao ativo {owner}, que este passo não declara como entrada "
                f"(entradas e saídas declaradas: {', '.join(sorted(self.assets))})"
            )
        return self.root / relative

    @property
    def inputs(self) -> Path:
        return self._file("inputs", "entrada")

    @property
    def linhas(self) -> Path:
        return self._file("linhas", "linhas.parquet")

    @property
    def arquivos(self) -> Path:
        return self._file("arquivos", "arquivos.parquet")

    @property
    def avaliadas(self) -> Path:
        return self._file("avaliadas", "linhas_avaliadas.parquet")

    @property
    def validadas(self) -> Path:
        return self._file("validadas", "validadas.parquet")

    @property
    def quarentena(self) -> Path:
        return self._file("quarentena", "quarentena.parquet")

    @property
    def estatisticas(self) -> Path:
        return self._file("estatisticas", "estatisticas_linhas.parquet")

    @property
    def base_bruta(self) -> Path:
        return self._file("base_bruta", "base_bruta.parquet")

    @property
    def base_interna(self) -> Path:
        return self._file("base_interna", "base_interna.parquet")

    @property
    def divergencias(self) -> Path:
        return self._file("divergencias", "divergencias.parquet")

    @property
    def resumo(self) -> Path:
        return self._file("resumo", "resumo_conciliacao.parquet")

    @property
    def pendencias(self) -> Path:
        return self._file("pendencias", "pendencias.parquet")

    @property
    def baldes(self) -> Path:
        """The day's inputs split by a hash of ordem_id and each bucketed model's parts (engine/buckets.py)."""
        return self._file("baldes", "baldes")

    @property
    def estado_anterior(self) -> Path:
        return self._file("estado_anterior", "estado_anterior")


def step_paths(root: Path, assets: Iterable[str]) -> DayPaths:
    """D's work area as one step sees it: the files of its declared inputs and of its own outputs."""
    return DayPaths(root, frozenset(assets))
