"""What the dashboard and the daily report read: DuckDB over the published Parquet, nothing else.

A local output is read by DuckDB's own Parquet reader; an ``s3://`` output is opened as Arrow
datasets through pyarrow's own S3 client, so DuckDB needs no extension download. Either way the date
filter is pushed down to the partition folders: only the selected dates are read, and only the
columns a view needs. Every figure comes from one
SQL model in ``dbt_like_sql/painel/`` over the same filtered relation (``divergencias_filtradas``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from reconciliation_assets.checkpoint import RUN_STATUS_DIR, run_status_location
from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner, load_model
from reconciliation_assets.painel.filtros import Filtro
from reconciliation_assets.publication import published_record
from resources.storage import ReconStorage, is_s3, split_s3

TABELAS = ("divergencias", "resumo_conciliacao", "pendencias")
TAMANHO_PAGINA = 100
FALHAS = ("FAILED", "TIMEOUT", "GATED")
COLUNAS_EXPORTACAO = (
    "data_referencia",
    "fornecedor_id",
    "ordem_id",
    "nome",
    "tipo_divergencia",
    "detalhes",
    "severidade",
    "data",
    "valor_csv",
    "valor_base",
    "valor_diferenca",
)
MAX_ESTADOS = 31  # run statuses read per page: the dates shown (at most a month) and those after
_PARTICAO = ds.partitioning(pa.schema([("data_referencia", pa.date32())]), flavor="hive")


def _filesystem(storage: ReconStorage, uri: str) -> tuple[pafs.FileSystem, str]:
    """A folder of the storage as a pyarrow filesystem and base path (credentials from the standard
    AWS chain)."""
    if not is_s3(uri):
        return pafs.LocalFileSystem(), str(Path(uri).resolve())
    bucket, prefix = split_s3(uri)
    endpoint = storage.s3.endpoint_url or None
    fs = pafs.S3FileSystem(endpoint_override=endpoint, region=storage.s3.region_name or "us-east-1")
    return fs, f"{bucket}/{prefix}".rstrip("/")


@dataclass(frozen=True)
class EstadoData:
    """Whether D's last run failed while an earlier publication of D is what the page shows."""

    data_referencia: date
    publicada_pelo_job: str | None
    publicada_em: str | None
    ultima_execucao: dict[str, Any] | None

    @property
    def ultima_falhou(self) -> bool:
        run = self.ultima_execucao or {}
        return run.get("status") in FALHAS and run.get("job_id") != self.publicada_pelo_job

    def aviso(self) -> str | None:
        if not self.ultima_falhou:
            return None
        run = self.ultima_execucao or {}
        erro = run.get("error_details") or {}
        motivo = f"{run.get('status')} na etapa {erro.get('stage', '?')}: {erro.get('message', '')}".strip()
        if self.publicada_pelo_job is None:
            return f"A execução de {self.data_referencia} (job {run.get('job_id')}) falhou ({motivo}) e a data não tem publicação."
        return (
            f"A última execução de {self.data_referencia} (job {run.get('job_id')}) falhou ({motivo}). "
            f"Mostrando a última publicação válida: job {self.publicada_pelo_job}, publicada em {self.publicada_em}."
        )


class Saida:
    """One opened output: the published tables as DuckDB relations, and the dashboard's queries."""

    def __init__(self, storage: ReconStorage, engine: EngineSettings):
        self.storage = storage
        self.engine = engine
        self.runner = ModelRunner(engine)
        fs, base = _filesystem(storage, storage.output_uri)
        self.disponiveis: set[str] = set()
        for tabela in TABELAS:
            if not is_s3(storage.output_uri):
                # Local folders: DuckDB's reader, 3-4x faster than an Arrow dataset scan on a
                # 30-date period and ~400 MiB lighter (bench/painel.py).
                if any(Path(base, tabela).glob("data_referencia=*/*.parquet")):
                    self.runner.register_partitioned_parquet(tabela, Path(base, tabela))
                    self.disponiveis.add(tabela)
                continue
            try:
                dataset = ds.dataset(
                    f"{base}/{tabela}", filesystem=fs, format="parquet", partitioning=_PARTICAO
                )
            except (FileNotFoundError, OSError):
                continue
            if dataset.files:
                self.runner.register_arrow(tabela, dataset)
                self.disponiveis.add(tabela)

    def close(self) -> None:
        self.runner.__exit__(None, None, None)

    # ---- which dates exist -------------------------------------------------------------------
    def datas_publicadas(self) -> list[date]:
        """Dates whose summary (the publication's last table, its "done" marker) is published."""
        if "resumo_conciliacao" not in self.disponiveis:
            return []
        rows = self.runner.query("SELECT DISTINCT data_referencia FROM resumo_conciliacao ORDER BY 1")
        return [r[0] for r in rows]

    def estado_da_data(self, dia: date) -> EstadoData:
        record = published_record(self.storage, dia.isoformat()) or {}
        run = self.storage.read_json(run_status_location(self.storage.checkpoint_uri, dia.isoformat()))
        return EstadoData(dia, record.get("job_id"), record.get("concluida_em"), run)

    def datas_com_execucao_apos(self, dia: date) -> list[date]:
        """Dates after ``dia`` whose run wrote a status with the checkpoints, oldest first."""
        fs, base = _filesystem(self.storage, self.storage.checkpoint_uri)
        try:
            infos = fs.get_file_info(pafs.FileSelector(f"{base}/{RUN_STATUS_DIR}", allow_not_found=True))
        except OSError:
            return []
        datas = []
        for info in infos:
            nome = info.base_name
            if info.type == pafs.FileType.Directory and nome.startswith("data_referencia="):
                try:
                    d = date.fromisoformat(nome.removeprefix("data_referencia="))
                except ValueError:
                    continue
                if d > dia:
                    datas.append(d)
        return sorted(datas)

    def avisos(self, filtro: Filtro, datas: list[date]) -> list[str]:
        """What the page must say before its numbers: failed last runs of the dates it shows, and
        failed later dates that have no publication when it shows the latest one."""
        inicio, fim = filtro.periodo()
        mostradas = [d for d in datas if inicio <= d <= fim][-MAX_ESTADOS:]
        avisos = [a for d in mostradas if (a := self.estado_da_data(d).aviso())]
        if mostradas and mostradas[-1] == datas[-1]:
            for d in self.datas_com_execucao_apos(datas[-1])[-MAX_ESTADOS:]:
                estado = self.estado_da_data(d)
                if estado.ultima_falhou:
                    avisos.append(
                        f"{estado.aviso()} Os números abaixo são da última data publicada, {datas[-1]}."
                    )
        return avisos

    def fornecedores(self, filtro: Filtro) -> list[str]:
        """Suppliers with divergences in the period (the filter's choices)."""
        rows = self.runner.query(
            "SELECT DISTINCT fornecedor_id FROM divergencias WHERE data_referencia BETWEEN $inicio AND $fim ORDER BY 1",
            {"inicio": filtro.inicio, "fim": filtro.fim},
        )
        return [r[0] for r in rows]

    # ---- the views -----------------------------------------------------------------------------
    def _sobre_filtradas(self, model: str, filtro: Filtro, suffix: str = "") -> str:
        return (
            f"WITH filtradas AS ({load_model('painel/divergencias_filtradas')}) {load_model(model)} {suffix}"
        )

    def _linhas(self, model: str, filtro: Filtro) -> list[dict[str, Any]]:
        return self.runner.query_dicts(self._sobre_filtradas(model, filtro), filtro.sql())

    def kpis(self, filtro: Filtro) -> dict[str, Any]:
        out = self._linhas("painel/kpis", filtro)[0]
        taxa = self.runner.query_dicts(
            load_model("painel/taxa_periodo"), {"inicio": filtro.inicio, "fim": filtro.fim}
        )[0]
        out["taxa_divergencia"] = taxa["taxa_divergencia"]
        out["datas"] = taxa["datas"]
        abertas = self.pendencias_abertas(filtro)
        out["pendencias_abertas"] = None if abertas is None else sum(r["pendencias"] for r in abertas)
        out["valor_em_aberto"] = None if abertas is None else sum((r["valor"] for r in abertas), start=0)
        return out

    def por_tipo(self, filtro: Filtro) -> list[dict[str, Any]]:
        return self._linhas("painel/por_tipo", filtro)

    def por_severidade(self, filtro: Filtro) -> list[dict[str, Any]]:
        return self._linhas("painel/por_severidade", filtro)

    def top_fornecedores(self, filtro: Filtro) -> list[dict[str, Any]]:
        return self._linhas("painel/top_fornecedores", filtro)

    def tendencia(self, fim: date) -> list[dict[str, Any]]:
        """Up to 30 published dates ending at ``fim``, oldest first."""
        rows = self.runner.query_dicts(load_model("painel/tendencia"), {"fim": fim})
        return sorted(rows, key=lambda r: r["data_referencia"])

    def pendencias_abertas(self, filtro: Filtro) -> list[dict[str, Any]] | None:
        """Open breaks on the period's last date by age band; None when ``pendencias`` is not published."""
        if "pendencias" not in self.disponiveis:
            return None
        params = {k: v for k, v in filtro.sql().items() if k != "inicio"}
        return self.runner.query_dicts(load_model("painel/pendencias_abertas"), params)

    def contar(self, filtro: Filtro) -> int:
        return int(self._linhas("painel/kpis", filtro)[0]["total"])

    def pagina(self, filtro: Filtro, numero: int, tamanho: int = TAMANHO_PAGINA) -> pa.Table:
        """Page ``numero`` (from 1) of the table: only these rows leave DuckDB."""
        sql = self._sobre_filtradas("painel/tabela", filtro, "LIMIT $limite OFFSET $inicio_pagina")
        params = {**filtro.sql(), "limite": tamanho, "inicio_pagina": (max(numero, 1) - 1) * tamanho}
        return self.runner.con.sql(sql, params=params).to_arrow_table()

    def exportar_csv(self, filtro: Filtro) -> bytes:
        """Every filtered row as CSV (string cells formula-safe), streamed batch by batch."""
        colunas = ", ".join(f"csv_seguro({c}) AS {c}" if c in _TEXTO else c for c in COLUNAS_EXPORTACAO)
        sql = f"SELECT {colunas} FROM ({self._sobre_filtradas('painel/tabela', filtro)})"
        lotes = self.runner.con.sql(sql, params=filtro.sql()).to_arrow_reader()
        saida = io.BytesIO()
        with pacsv.CSVWriter(saida, lotes.schema) as writer:
            for lote in lotes:
                writer.write_batch(lote)
        return saida.getvalue()


_TEXTO = {"fornecedor_id", "ordem_id", "nome", "tipo_divergencia", "detalhes", "severidade"}
