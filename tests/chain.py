"""Run the day's steps directly (the same functions the assets call) on small hand-written inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.divergence import compute_divergences
from reconciliation_assets.engine.runners import open_runner
from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner
from reconciliation_assets.ingest import SourceFile, stage_files
from reconciliation_assets.validation import validate_day
from resources.internal_base import InternalBase

HEADER = "fornecedor_id;ordem_id;nome;ativo_id;data;valor"


def make_base(
    path: Path, rows: list[tuple], valor_type: str = "DECIMAL(18,2)", table: str = "transacoes_internas"
) -> Path:
    con = duckdb.connect(str(path))
    con.execute(
        f"CREATE OR REPLACE TABLE {table} (fornecedor_id VARCHAR, ordem_id VARCHAR, nome VARCHAR, "
        f"ativo_id VARCHAR, data DATE, valor {valor_type})"
    )
    if rows:
        con.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.close()
    return path


@dataclass
class DayResult:
    stats: dict[str, Any]
    validadas: list[dict[str, Any]]
    quarentena: list[dict[str, Any]]
    divergencias: list[dict[str, Any]]
    resumo: dict[str, Any] | None


def read_rows(path: Path, order_by: str) -> list[dict[str, Any]]:
    with ModelRunner(EngineSettings(temp_dir=str(path.parent / "tmp"))) as runner:
        runner.register_parquet("t", path)
        return runner.query_dicts(f"SELECT * FROM t ORDER BY {order_by}")


def run_day(
    tmp: Path,
    files: dict[str, bytes | str],
    base_rows: list[tuple] | None = None,
    day: str = "2024-03-10",
    max_age_days: int = 31,
    high: str = "1000.00",
    medium: str = "1.00",
    base_valor_type: str = "DECIMAL(18,2)",
    engine_name: str = "duckdb",
) -> DayResult:
    """Stage, validate, snapshot and compare one day; ``base_rows=None`` stops after validation."""
    ingress = tmp / "ingress" / day
    ingress.mkdir(parents=True, exist_ok=True)
    sources = []
    for name, content in files.items():
        p = ingress / name
        p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        sources.append(SourceFile(name=name, local_path=p, uri=str(p), arrived_at=0.0, version="v"))
    engine = EngineSettings(memory_limit="512MB", threads=1, temp_dir=str(tmp / "tmp"), engine=engine_name)
    paths = DayPaths.for_date(tmp / "work", day)
    stage_files(sources, paths.linhas, paths.arquivos)
    stats = validate_day(paths, day, max_age_days, engine)
    validadas = read_rows(paths.validadas, "arquivo, linha")
    quarentena = read_rows(paths.quarentena, "arquivo, linha")
    if base_rows is None:
        return DayResult(stats, validadas, quarentena, [], None)
    base = make_base(tmp / "base.duckdb", base_rows, base_valor_type)
    internal = InternalBase(db_url=f"duckdb:///{base}")
    with ModelRunner(engine) as runner:
        runner.register_parquet("validadas", paths.validadas)
        inicio, fim = runner.query("SELECT min(data), max(data) FROM validadas")[0]
    internal.snapshot(inicio, fim, paths.validadas, paths.base_bruta, engine)
    with open_runner(engine) as normalising:
        normalising.register_parquet("base_bruta", paths.base_bruta)
        normalising.copy_to_parquet("base_interna", paths.base_interna)
    now = datetime(2024, 3, 10, 6, 0, tzinfo=UTC)
    resumo = compute_divergences(
        paths,
        job_id="run-teste",
        started_at=now,
        arrived_at=now,
        severity_high=Decimal(high),
        severity_medium=Decimal(medium),
        sla_minutes=20,
        engine=engine,
    )
    divergencias = read_rows(paths.divergencias, "ordem_id, tipo_divergencia")
    return DayResult(stats, validadas, quarentena, divergencias, resumo)


def csv(*lines: str, header: str = HEADER, newline: str = "\n") -> str:
    return newline.join([header, *lines]) + newline
