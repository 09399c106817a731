"""What each asset hands to the steps after it: its files in D's work area and the facts they need.

A step receives these as Dagster inputs (the work-area IO manager in ``resources/work_area.py``
loads them), so the lineage Dagster draws is what the step reads: it reaches only the files of
the assets it declares (``day_paths.step_paths``), and facts computed once upstream (the file's
coverage, its arrival, the sha256s) travel with the output instead of being read again from
another step's files.

Each output is registered in ``<D>/saidas/<asset>.json`` with the identity (size, mtime) of the
files it stands for: a file rewritten or removed after it was registered shows as missing, so a
step never pairs fresh files with stale facts.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

from reconciliation_assets.day_paths import DayPaths, step_paths
from reconciliation_assets.engine.buckets import file_identity

MANIFESTS = "saidas"


@dataclass(frozen=True)
class WorkOutput:
    """One asset's output for one date, as its step built it or as ``load`` read it back."""

    ASSET: ClassVar[str]
    # The work files a later step needs (scratch files of the step are not part of the output).
    FILES: ClassVar[tuple[str, ...]]

    root: Path
    # Loaded outputs only: each file's identity when the output was registered; None when the asset
    # never registered it for the date.
    recorded: dict[str, Any] | None = field(default=None, kw_only=True, compare=False, repr=False)

    @property
    def paths(self) -> DayPaths:
        """The asset's own files, and nothing else of the date."""
        return step_paths(self.root, [self.ASSET])

    @property
    def manifest(self) -> Path:
        return self.root / MANIFESTS / f"{self.ASSET}.json"

    def files(self) -> dict[str, Path]:
        return {name: getattr(self.paths, name) for name in self.FILES}

    def facts(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("root", "recorded")}

    def register(self) -> None:
        """Record the output after its files are written (atomically: a crash leaves the old record)."""
        record = {
            "ativo": self.ASSET,
            "fatos": self.facts(),
            "arquivos": {p.name: file_identity(p) for p in self.files().values()},
        }
        self.manifest.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.manifest.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.manifest)

    def missing(self) -> list[str]:
        """The files a later step needs that are absent, or changed since the output was registered."""
        recorded = self.recorded or {}
        return [
            p.name
            for p in self.files().values()
            if not p.exists() or recorded.get(p.name) != file_identity(p)
        ]

    @classmethod
    def load(cls, root: Path) -> WorkOutput:
        """The output as registered for the date under ``root`` (``recorded`` None if never)."""
        manifest = cls(root).manifest
        if not manifest.exists():
            return cls(root)
        record = json.loads(manifest.read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)} - {"root", "recorded"}
        facts = {k: v for k, v in record["fatos"].items() if k in known}
        return cls(root, recorded=record["arquivos"], **facts)


@dataclass(frozen=True)
class ArquivosDoDia(WorkOutput):
    """``arquivos_fornecedor``: D's physical lines and file list, with each file's sha256 and arrival."""

    ASSET = "arquivos_fornecedor"
    FILES = ("linhas", "arquivos")

    linhas_fisicas: int = 0
    # Epoch seconds of the newest file's arrival: the SLA's start when no sensor tagged the run.
    chegou_em: float | None = None
    sha256: dict[str, str] = field(default_factory=dict)

    @property
    def arrived_at(self) -> datetime | None:
        return None if self.chegou_em is None else datetime.fromtimestamp(self.chegou_em, tz=UTC)


@dataclass(frozen=True)
class TransacoesValidadas(WorkOutput):
    """``transacoes_validadas``: the valid rows, the line accounting and the file's coverage."""

    ASSET = "transacoes_validadas"
    FILES = ("validadas", "estatisticas")

    linhas: int = 0
    # The file's coverage (model cobertura.sql), computed once by validation; None when no row is valid.
    cobertura_inicio: str | None = None
    cobertura_fim: str | None = None

    @property
    def coverage(self) -> tuple[date | None, date | None]:
        return (
            None if self.cobertura_inicio is None else date.fromisoformat(self.cobertura_inicio),
            None if self.cobertura_fim is None else date.fromisoformat(self.cobertura_fim),
        )


@dataclass(frozen=True)
class QuarentenaDoDia(WorkOutput):
    """``quarentena``: every rejected line of D, with its reason (published with D's other tables)."""

    ASSET = "quarentena"
    FILES = ("quarentena",)

    linhas: int = 0


@dataclass(frozen=True)
class BaseInternaDoDia(WorkOutput):
    """``base_interna_snapshot``: the internal rows in D's scope, normalised."""

    ASSET = "base_interna_snapshot"
    FILES = ("base_interna",)

    linhas: int = 0


@dataclass(frozen=True)
class DivergenciasDoDia(WorkOutput):
    """``divergencias``: D's divergence table and its one-row summary, as computed (published or held)."""

    ASSET = "divergencias"
    FILES = ("divergencias", "resumo")

    linhas: int = 0
    publicada: bool = False


@dataclass(frozen=True)
class PendenciasDoDia(WorkOutput):
    """``pendencias``: D's breaks carried across dates."""

    ASSET = "pendencias"
    FILES = ("pendencias",)

    linhas: int = 0
    publicada: bool = False


OUTPUTS: dict[str, type[WorkOutput]] = {
    cls.ASSET: cls
    for cls in (
        ArquivosDoDia,
        TransacoesValidadas,
        QuarentenaDoDia,
        BaseInternaDoDia,
        DivergenciasDoDia,
        PendenciasDoDia,
    )
}
