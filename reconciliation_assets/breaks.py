"""Step 5: breaks carried across dates (SPEC 5.4; the rule is ``dbt_like_sql/pendencias.sql``).

D's breaks are computed from the state of the latest earlier date E that has one published, so
days without a file do not break the chain. Each publication of ``pendencias`` records what it
was computed from (E and an order-free digest of E's rows) and its own digest; from that the
chain's currency is derived: a date is *current* when its previous state is still the latest
earlier one, with the same content, and is itself current. Re-running a past date with different
results, or publishing a date in a gap, makes the later dates stale until they are re-run in order;
``mark_later_dates`` records that in ``_manifestos/data_referencia=D/cadeia.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciliation_assets import clock
from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.engine.buckets import (
    BucketedDay,
    bucket_count,
    file_identity,
    parquet_rows,
    run_model_by_bucket,
)
from reconciliation_assets.engine.files import sha256_file
from reconciliation_assets.engine.runners import open_runner
from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner, load_model
from reconciliation_assets.publication import recover
from resources.storage import ReconStorage

TABLE = "pendencias"
# The published order (after hash(ordem_id) on DuckDB, engine/buckets.py).
BREAK_ORDER = ("ordem_id", "tipo_divergencia", "situacao", "detalhes")
CHAIN = "cadeia"


@dataclass(frozen=True)
class PreviousState:
    """P of SPEC 5.4: the latest earlier date with published breaks (None on the first date)."""

    data_referencia: str | None = None
    conteudo: str | None = None
    local_file: Path | None = None
    atual: bool = True  # False when P itself was computed from a state that has since changed

    def reference(self) -> dict[str, str] | None:
        if self.data_referencia is None:
            return None
        return {"data_referencia": self.data_referencia, "conteudo": self.conteudo or ""}


def chain_status(storage: ReconStorage, day: str) -> dict[str, Any] | None:
    return storage.read_json(storage.manifest_uri(day, CHAIN))


def previous_state(storage: ReconStorage, day: str, dest_dir: Path, published: list[str]) -> PreviousState:
    """P for D from ``published`` (the dates with ``pendencias``, ``storage.published_dates``)."""
    earlier = [d for d in published if d < day]
    if not earlier:
        return PreviousState()
    prior = earlier[-1]
    recover(storage, prior)  # an interrupted publication of E is finished before E is read
    manifest = storage.read_json(storage.manifest_uri(prior, TABLE)) or {}
    status = chain_status(storage, prior) or {}
    return PreviousState(
        data_referencia=prior,
        conteudo=manifest.get("conteudo"),
        local_file=storage.fetch_published(TABLE, prior, dest_dir),
        atual=bool(status.get("atual", True)),
    )


def compute_breaks(
    paths: DayPaths,
    day: str,
    previous: PreviousState,
    *,
    job_id: str,
    engine: EngineSettings,
) -> dict[str, Any]:
    """Write D's ``pendencias`` to the work folder; return its facts (pendencias_resumo.sql)."""
    computed_at = clock.now()
    sides = {
        "validadas": paths.validadas,
        "base_interna": paths.base_interna,
        "divergencias": paths.divergencias,
    }
    if previous.local_file is not None:
        sides["pendencias_anteriores"] = previous.local_file
    with open_runner(engine) as runner:
        if isinstance(runner, ModelRunner):
            _breaks_by_bucket(runner, paths, day, previous, sides, job_id, computed_at, engine)
        else:
            # Spark partitions and shuffles the whole day itself: the model runs once.
            for relation, source in sides.items():
                runner.register_parquet(relation, source)
            if previous.local_file is None:
                runner.register_model_view("pendencias_estado_inicial", relation="pendencias_anteriores")
            runner.copy_to_parquet(
                "pendencias",
                paths.pendencias,
                {"data_referencia": day, "job_id": job_id, "calculado_em": computed_at},
                order_by=BREAK_ORDER,
            )
        for relation, source in sides.items():
            runner.register_parquet(relation, source)
        if previous.local_file is None:
            runner.register_model_view("pendencias_estado_inicial", relation="pendencias_anteriores")
        runner.register_parquet("pendencias", paths.pendencias)
        facts = runner.query_dicts(load_model("pendencias_resumo"))[0]
    facts["conteudo"] = content_digest(paths.pendencias, engine)
    return facts


def content_digest(pendencias: Path, engine: EngineSettings) -> str:
    """Order-free digest of written ``pendencias`` rows (model pendencias_conteudo.sql), always on
    DuckDB over the file, so the digests of a chain compare whichever engine wrote each date."""
    with ModelRunner(replace(engine, engine="duckdb")) as runner:
        runner.register_parquet("pendencias", pendencias)
        return str(runner.query_dicts(load_model("pendencias_conteudo"))[0]["conteudo"])


def _breaks_by_bucket(
    runner: ModelRunner,
    paths: DayPaths,
    day: str,
    previous: PreviousState,
    sides: dict[str, Path],
    job_id: str,
    computed_at: datetime,
    engine: EngineSettings,
) -> None:
    """DuckDB: every input is keyed by ordem_id, so the rule runs bucket by bucket (engine/buckets.py)."""
    n = bucket_count(max(parquet_rows(p) for p in sides.values()), engine.buckets)
    # What the buckets are computed from (engine/buckets.py Ledger). The divergences file is
    # re-stamped by every run, so it is known by its content without the stamp; P by its bytes
    # (it is fetched again by every run).
    runner.register_parquet("divergencias", paths.divergencias)
    identity = {
        "validadas": file_identity(paths.validadas),
        "base_interna": file_identity(paths.base_interna),
        "divergencias": {"conteudo": _content_digest(runner, "divergencias")},
        "pendencias_anteriores": sha256_file(previous.local_file) if previous.local_file else None,
    }
    bucketed = BucketedDay(runner, n, paths.baldes)
    for relation, source in sides.items():
        bucketed.add(relation, source, identity[relation])
    if previous.local_file is None:
        runner.register_model_view("pendencias_estado_inicial", relation="pendencias_anteriores")
    run_model_by_bucket(
        runner,
        bucketed,
        model="pendencias",
        relations=tuple(sides),
        params={"data_referencia": day},
        run_params={"job_id": job_id, "calculado_em": computed_at},
        stamp={"job_id": ("varchar", job_id), "timestamp": ("timestamptz", computed_at)},
        order_by=BREAK_ORDER,
        out=paths.pendencias,
        parts_dir=paths.baldes / "pendencias",
        fingerprint={**identity, "estado_anterior": previous.reference()},
    )


def _content_digest(runner: ModelRunner, relation: str) -> str:
    """Order-free digest of a relation's rows without the run's stamp (job_id, timestamp)."""
    rows, digest = runner.query(
        f'SELECT count(*), coalesce(sum(hash(*COLUMNS(* EXCLUDE (job_id, "timestamp")))::hugeint), 0) '
        f"FROM {relation}"
    )[0]
    return f"{rows}:{digest}"


def publication_details(previous: PreviousState, facts: dict[str, Any]) -> dict[str, Any]:
    """What the ``pendencias`` manifest records so the chain's currency can be derived later."""
    return {
        "estado_anterior": previous.reference(),
        "conteudo": facts["conteudo"],
        "calculada_sobre_estado_atual": previous.atual,
    }


def _status(day: str, current: bool, why: str, previous: dict[str, str] | None) -> dict[str, Any]:
    return {
        "data_referencia": day,
        "atual": current,
        "motivo": why,
        "estado_anterior": previous,
        "avaliada_em": datetime.now(tz=UTC).isoformat(),
    }


def own_status(day: str, previous: PreviousState) -> dict[str, Any]:
    """D's currency: computed from the current state of the latest earlier date, or not."""
    if previous.atual:
        why = (
            f"calculada sobre o estado de {previous.data_referencia}"
            if previous.data_referencia
            else "primeira data: sem estado anterior"
        )
    else:
        why = (
            f"calculada sobre o estado de {previous.data_referencia}, que está desatualizado: "
            f"re-execute as datas a partir da primeira desatualizada, em ordem"
        )
    return _status(day, previous.atual, why, previous.reference())


def record_chain(storage: ReconStorage, status: dict[str, Any]) -> None:
    """D was just published: record its currency beside its manifests."""
    storage.write_json(storage.manifest_uri(status["data_referencia"], CHAIN), status)


def mark_later_dates(
    storage: ReconStorage, day: str, conteudo: str, current: bool, published: list[str]
) -> list[dict[str, Any]]:
    """Re-derive the currency of every published date after D (oldest first); returns their status."""
    later = [d for d in published if d > day]
    prev_content: str | None = conteudo  # a later date's manifest may have none
    prev_day, prev_current = day, current
    statuses = []
    for other in later:
        manifest = storage.read_json(storage.manifest_uri(other, TABLE)) or {}
        used = manifest.get("estado_anterior")
        expected = {"data_referencia": prev_day, "conteudo": prev_content or ""}
        if used != expected:
            used_day = (used or {}).get("data_referencia") or "nenhum"
            why = (
                f"calculada sobre o estado de {used_day}; o estado anterior agora é o de {prev_day} "
                f"(re-executado ou publicado depois): re-execute {other} e as seguintes em ordem"
                if used_day != prev_day
                else f"o estado de {prev_day} mudou depois do cálculo: re-execute {other} e as seguintes em ordem"
            )
            is_current = False
        elif not prev_current:
            why, is_current = f"o estado de {prev_day} está desatualizado: re-execute em ordem", False
        else:
            why, is_current = f"calculada sobre o estado atual de {prev_day}", True
        status = _status(other, is_current, why, used)
        storage.write_json(storage.manifest_uri(other, CHAIN), status)
        statuses.append(status)
        prev_day, prev_content, prev_current = other, manifest.get("conteudo"), is_current
    return statuses
