"""Step 4: divergences and the day's summary (rules in dbt_like_sql/divergencias.sql, resumo_conciliacao.sql)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from reconciliation_assets import clock
from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.engine.buckets import (
    BucketedDay,
    BucketRun,
    bucket_count,
    file_identity,
    parquet_rows,
    run_model_by_bucket,
)
from reconciliation_assets.engine.runners import open_runner
from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner
from reconciliation_assets.sla import sla_status

# The published order after hash(ordem_id) (engine/buckets.py): the divergence's key, then what
# tells apart two divergences of one ordem_id and type (only a repeated ordem_id in the base can).
ORDER = ("ordem_id", "tipo_divergencia", "hash_linha", "detalhes", "data_base", "valor_base")
# On Spark (no buckets, no DuckDB hash) the published order is this key alone.
COVERAGE_SCHEMA = pa.schema([("inicio", pa.date32()), ("fim", pa.date32())])  # model cobertura.sql's row


def compute_divergences(
    paths: DayPaths,
    *,
    coverage: tuple[date | None, date | None] | None = None,
    job_id: str,
    started_at: datetime,
    arrived_at: datetime,
    severity_high: Decimal,
    severity_medium: Decimal,
    sla_minutes: int,
    engine: EngineSettings,
    sla_warn_minutes: int = 18,
    earlier_publications: Sequence[datetime] = (),
) -> dict[str, Any]:
    """Write the divergence table and the one-row summary to the day's work folder; return the summary.

    ``coverage``: the file's coverage as validation computed it (model cobertura.sql, handed on by the
    job); a caller without it (a benchmark, a test of this function) gets it from the same model here.
    """
    computed_at = clock.now().astimezone(started_at.tzinfo)
    with open_runner(engine) as runner:
        # The coverage is the whole file's, whatever the buckets.
        runner.register_parquet("validadas", paths.validadas)
        if coverage is None:
            runner.materialize("cobertura")
        else:
            runner.register_arrow(
                "cobertura",
                pa.table({"inicio": [coverage[0]], "fim": [coverage[1]]}, schema=COVERAGE_SCHEMA),
            )
        sides = {"validadas": paths.validadas, "base_interna": paths.base_interna}
        if isinstance(runner, ModelRunner):
            _divergences_by_bucket(
                runner, paths, sides, engine, severity_high, severity_medium, job_id, computed_at
            )
        else:
            # Spark partitions and shuffles the whole day itself: each model runs once.
            runner.register_parquet("base_interna", paths.base_interna)
            runner.copy_to_parquet(
                "divergencias",
                paths.divergencias,
                {
                    "severidade_high": str(severity_high),
                    "severidade_medium": str(severity_medium),
                    "job_id": job_id,
                    "calculado_em": computed_at,
                },
                order_by=ORDER,
            )
            runner.register_parquet("divergencias", paths.divergencias)
            runner.copy_to_parquet("lados_conciliacao", paths.baldes / "lados_conciliacao.parquet")
        runner.register_parquet("lados_conciliacao", paths.baldes / "lados_conciliacao.parquet")
        runner.register_parquet("estatisticas_linhas", paths.estatisticas)
        finished_at = clock.now().astimezone(started_at.tzinfo)
        # This run's publication instant is finished_at (reconciliation_assets/sla.py).
        sla = sla_status(
            arrived_at=arrived_at,
            publication=finished_at,
            earlier=earlier_publications,
            sla_minutes=sla_minutes,
            warn_minutes=sla_warn_minutes,
        )
        runner.copy_to_parquet(
            "resumo_conciliacao",
            paths.resumo,
            {
                "job_id": job_id,
                "started_at": started_at,
                "finished_at": finished_at,
                "arquivo_chegou_em": arrived_at,
                "sla_prazo": sla.deadline,
                "sla_cumprido": sla.met,
            },
        )
        runner.register_parquet("resumo_calculado", paths.resumo)
        return runner.query_dicts("SELECT * FROM resumo_calculado")[0]


def _divergences_by_bucket(
    runner: ModelRunner,
    paths: DayPaths,
    sides: dict[str, Path],
    engine: EngineSettings,
    severity_high: Decimal,
    severity_medium: Decimal,
    job_id: str,
    computed_at: datetime,
) -> None:
    """DuckDB: divergences and the summary's facts bucket by bucket of ordem_id (engine/buckets.py).

    Each bucketed model runs on a connection of its own, closed after it: a model's joins leave their
    memory in the connection's allocator, which the next model's peak would otherwise add to.
    """
    n = bucket_count(max(parquet_rows(p) for p in sides.values()), engine.buckets)
    fingerprint = {relation: file_identity(source) for relation, source in sides.items()}
    # The day's coverage, already computed on the step's connection (one row of two dates).
    ((start, end),) = runner.query("SELECT inicio, fim FROM cobertura")
    with ModelRunner(engine) as own:
        own.con.execute(
            "CREATE TEMP TABLE cobertura AS SELECT cast($inicio AS date) AS inicio, cast($fim AS date) AS fim",
            {"inicio": start, "fim": end},
        )
        divergences = _divergences_parts(
            own, paths, sides, n, fingerprint, severity_high, severity_medium, job_id, computed_at
        )
    # The summary's counts and sums, bucket by bucket too (additive over disjoint ordem_ids),
    # each bucket's next to its own divergences.
    with ModelRunner(engine) as own:
        _facts_by_bucket(own, paths, sides, n, fingerprint, divergences)


def _bucketed_sides(runner: ModelRunner, n: int, paths: DayPaths, sides: dict[str, Path]) -> BucketedDay:
    """The day's sides cut into ``n`` buckets on ``runner``'s connection (each model has its own)."""
    day = BucketedDay(runner, n, paths.baldes)
    for relation, source in sides.items():
        day.add(relation, source)
    return day


def _divergences_parts(
    runner: ModelRunner,
    paths: DayPaths,
    sides: dict[str, Path],
    n: int,
    fingerprint: dict[str, Any],
    severity_high: Decimal,
    severity_medium: Decimal,
    job_id: str,
    computed_at: datetime,
) -> BucketRun:
    day = _bucketed_sides(runner, n, paths, sides)
    return run_model_by_bucket(
        runner,
        day,
        model="divergencias",
        relations=tuple(sides),
        params={"severidade_high": str(severity_high), "severidade_medium": str(severity_medium)},
        run_params={"job_id": job_id, "calculado_em": computed_at},
        stamp={"timestamp": ("timestamptz", computed_at), "job_id": ("varchar", job_id)},
        order_by=ORDER,
        out=paths.divergencias,
        parts_dir=paths.baldes / "divergencias",
        fingerprint=fingerprint,
    )


def _facts_by_bucket(
    runner: ModelRunner,
    paths: DayPaths,
    sides: dict[str, Path],
    n: int,
    fingerprint: dict[str, Any],
    divergences: BucketRun,
) -> None:
    day = _bucketed_sides(runner, n, paths, sides)
    run_model_by_bucket(
        runner,
        day,
        model="lados_conciliacao",
        relations=tuple(sides),
        params={},
        run_params={},
        stamp={},
        order_by=(),
        out=paths.baldes / "lados_conciliacao.parquet",
        parts_dir=paths.baldes / "lados_conciliacao",
        fingerprint={**fingerprint, "divergencias": divergences.part_sha256},
        per_bucket=lambda k: runner.register_parquet("divergencias", divergences.parts[k]),
    )
