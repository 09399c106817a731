"""Asset ``divergencias``: one row per divergence, published only when the books balance."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from checks.catalog import CATALOG_CHECKS, catalog_check, catalog_metadata
from checks.chain import CHAIN_CHECKS, chain_check, currency_check, report_later_dates
from checks.deadlines import (
    DEADLINE_CHECKS,
    PUBLICADA_NO_PRAZO,
    SLA_PUBLICACAO,
    deadline_applies,
    deadline_check,
    earlier_publications,
    not_applicable,
    sla_check,
)
from checks.expectations import contract_gate
from checks.invariants import DIVERGENCIAS_CHECKS, divergence_invariants
from checks.plausibility import (
    PLAUSIBILITY_CHECKS,
    compare_inputs,
    operator_release,
    plausibility_check,
    released_by_operator,
)
from checks.quality import DIVERGENCIAS_QUALITY_CHECKS, divergence_rate
from reconciliation_assets import clock, schemas
from reconciliation_assets.assets.common import (
    ARRIVAL_TAG,
    GROUP,
    OWNERS,
    TAGS,
    WORK_AREA,
    StageTimer,
    step_files,
)
from reconciliation_assets.breaks import (
    compute_breaks,
    mark_later_dates,
    own_status,
    previous_state,
    publication_details,
    record_chain,
)
from reconciliation_assets.divergence import compute_divergences
from reconciliation_assets.engine.sql_models import ModelRunner
from reconciliation_assets.observability import log_stage, threshold_metadata
from reconciliation_assets.partitions import daily_partitions
from reconciliation_assets.publication import TableFile, publish_day, published_record
from reconciliation_assets.run_guard import StepGuard, asset_step, run_started
from reconciliation_assets.work_area import (
    ArquivosDoDia,
    BaseInternaDoDia,
    DivergenciasDoDia,
    PendenciasDoDia,
    QuarentenaDoDia,
    TransacoesValidadas,
)
from resources.glue import GlueCatalog
from resources.settings import Deadlines, DuckDBEngine, ReconRules
from resources.storage import ReconStorage

TIPOS = schemas.CONTAGENS_POR_TIPO


def arrival_time(context: dg.AssetExecutionContext, arquivos: ArquivosDoDia) -> datetime:
    """The sensor's tag when the run came from a file landing, else the newest file's own time."""
    tagged = context.run.tags.get(ARRIVAL_TAG)
    if tagged:
        return datetime.fromisoformat(tagged)
    assert arquivos.arrived_at is not None  # registered by arquivos_fornecedor with its files
    return arquivos.arrived_at


# D's breaks depend on the previous date's: the self-dependency makes asset backfills run dates
# oldest first (the data itself comes from the latest earlier *published* date, breaks.py).
PREVIOUS_DATE = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)


@dg.multi_asset(
    name="divergencias",
    partitions_def=daily_partitions,
    specs=[
        dg.AssetSpec(
            "divergencias",
            # Everything the step reads: the staged files (arrival, sha256s), the validated rows and the
            # line accounting, the quarantine it publishes, the internal snapshot.
            deps=["arquivos_fornecedor", "transacoes_validadas", "quarentena", "base_interna_snapshot"],
            group_name=GROUP,
            owners=OWNERS,
            tags=TAGS,
            kinds={"duckdb", "parquet"},
            description=(
                "Uma linha por divergência: TIPO_1 só no arquivo, TIPO_2 só na base (dentro da cobertura), "
                "TIPO_3_<CAMPO> um campo diferente. Publicada em Parquet só se o saldo fechar."
            ),
            metadata={"dagster/column_schema": schemas.DIVERGENCIAS},
        ).with_io_manager_key(WORK_AREA),
        dg.AssetSpec(
            "pendencias",
            deps=["divergencias", dg.AssetDep("pendencias", partition_mapping=PREVIOUS_DATE)],
            group_name=GROUP,
            owners=OWNERS,
            tags=TAGS,
            kinds={"duckdb", "parquet"},
            description=(
                "Pendências entre datas (SPEC 5.4): cada (ordem_id, tipo_divergencia) aberta em D ou resolvida "
                "em D, com situação NOVA/RECORRENTE/EM_ABERTO/RESOLVIDA, idade e faixa. Calculada sobre o estado "
                "da última data anterior publicada; datas em ordem, da mais antiga à mais nova."
            ),
            metadata={"dagster/column_schema": schemas.PENDENCIAS},
        ).with_io_manager_key(WORK_AREA),
    ],
    check_specs=[
        *DIVERGENCIAS_CHECKS,
        *PLAUSIBILITY_CHECKS,
        *DIVERGENCIAS_QUALITY_CHECKS,
        *DEADLINE_CHECKS,
        *CHAIN_CHECKS,
        *CATALOG_CHECKS,
    ],
)
def divergencias(
    context: dg.AssetExecutionContext,
    arquivos_fornecedor: ArquivosDoDia,
    transacoes_validadas: TransacoesValidadas,
    quarentena: QuarentenaDoDia,
    base_interna_snapshot: BaseInternaDoDia,
    storage: ReconStorage,
    rules: ReconRules,
    duckdb_engine: DuckDBEngine,
    deadlines: Deadlines,
    glue_catalog: GlueCatalog,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    inputs = DayInputs(arquivos_fornecedor, transacoes_validadas, quarentena, base_interna_snapshot)
    with asset_step(context, rules, "divergencias") as guard:
        yield from _divergences(
            context, inputs, storage, rules, duckdb_engine, deadlines, glue_catalog, guard
        )


@dataclass(frozen=True)
class DayInputs:
    """Everything the step reads, as the earlier steps of D handed it on."""

    arquivos: ArquivosDoDia
    validadas: TransacoesValidadas
    quarentena: QuarentenaDoDia
    base_interna: BaseInternaDoDia


def input_fingerprint(inputs: DayInputs, engine) -> dict[str, Any]:
    """What D was computed from: each file's sha256 and an order-free digest of the internal scope."""
    with ModelRunner(engine) as runner:
        runner.register_parquet("base_interna", inputs.base_interna.paths.base_interna)
        rows, digest = runner.query(
            "SELECT count(*), coalesce(sum(hash(fornecedor_id, ordem_id, nome, ativo_id, data, valor)::hugeint), 0)"
            " FROM base_interna"
        )[0]
    return {
        "arquivos": dict(sorted(inputs.arquivos.sha256.items())),
        "escopo_interno": f"{rows}:{digest}",
    }


def _divergences(
    context: dg.AssetExecutionContext,
    day_inputs: DayInputs,
    storage: ReconStorage,
    rules: ReconRules,
    duckdb_engine: DuckDBEngine,
    deadlines: Deadlines,
    glue_catalog: GlueCatalog,
    guard: StepGuard,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    timer = StageTimer()
    day = context.partition_key
    paths = step_files(
        context,
        storage.work_dir,
        day_inputs.arquivos,
        day_inputs.validadas,
        day_inputs.quarentena,
        day_inputs.base_interna,
    )
    engine = duckdb_engine.settings()
    started_at = run_started(context)
    arrived_at = arrival_time(context, day_inputs.arquivos)
    earlier = earlier_publications(context.instance, day)
    resumo = compute_divergences(
        paths,
        coverage=day_inputs.validadas.coverage,
        job_id=context.run_id,
        started_at=started_at,
        arrived_at=arrived_at,
        severity_high=rules.high,
        severity_medium=rules.medium,
        sla_minutes=rules.sla_minutes,
        engine=engine,
        sla_warn_minutes=rules.sla_warn_minutes,
        earlier_publications=earlier,
    )
    published_breaks = storage.published_dates("pendencias")  # listed once: P and the later dates
    previous = previous_state(storage, day, paths.estado_anterior, published_breaks)
    breaks = compute_breaks(paths, day, previous, job_id=context.run_id, engine=engine)
    inputs = {**input_fingerprint(day_inputs, engine), "estado_anterior_pendencias": previous.reference()}
    published = published_record(storage, day)
    changed = compare_inputs(inputs, published)
    if changed.get("entradas_iguais_a_publicada") == "não":
        context.log.warning(
            f"{day}: as entradas desta execução diferem das da publicação do job {changed['publicada_pelo_job']} "
            f"({changed['entradas_alteradas']})."
        )
    gate = plausibility_check(
        resumo,
        min_taxa_casamento=rules.min_taxa_casamento,
        max_taxa_divergencia=rules.max_taxa_divergencia,
        released=released_by_operator(context.run.tags),
        inputs_change=changed,
    )
    # Blocking: the books must balance, the day must be plausible and the table must honour its
    # contract before anything of D is published.
    results = [
        *divergence_invariants(resumo),
        gate,
        contract_gate(paths.divergencias, paths.resumo, context.run_id, engine),
        chain_check(breaks, previous.data_referencia),
    ]
    publish = all(r.passed for r in results)
    total = sum(resumo[t] for t in TIPOS)
    published_at = None
    chain_status = own_status(day, previous)
    stale_later: list[str] = []
    catalog: dict[str, Any] = {"estado": "nao_publicada"}
    if publish:
        publish_day(
            storage,
            day,
            context.run_id,
            [
                TableFile("quarentena", paths.quarentena, int(resumo["linhas_quarentena"])),
                TableFile("divergencias", paths.divergencias, total),
                TableFile(
                    "pendencias",
                    paths.pendencias,
                    int(breaks["pendencias"]),
                    details=publication_details(previous, breaks),
                ),
                TableFile("resumo_conciliacao", paths.resumo, 1),
            ],
            inputs=inputs,
            operator_release=operator_release(gate),
            before_commit=guard.check,
        )
        # The instant the summary's SLA verdict was computed for (reconciliation_assets/sla.py): the
        # check and the published sla_cumprido are one verdict.
        published_at = resumo["finished_at"]
        context.log.info(f"{day}: quarentena, divergências, pendências e resumo publicados juntos.")
        stale_later = _update_chain(
            context, storage, chain_status, previous, breaks["conteudo"], published_breaks
        )
        if stale_later:
            context.log.warning(
                f"{day}: pendências das datas posteriores desatualizadas: {', '.join(stale_later)}; "
                "re-execute-as em ordem, da mais antiga à mais nova."
            )
        catalog = _register_catalog(context, glue_catalog, day)
    else:
        failed = ", ".join(str(r.check_name) for r in results if not r.passed)
        context.log.error(
            f"{day}: checagens bloqueantes falharam ({failed}); NADA da data foi publicado "
            "(a saída anterior permanece)."
        )
    # Only runs that serve the day's SLA are measured against it (checks/deadlines.py).
    applies, why = deadline_applies(context.run.tags, day, deadlines)
    timing_checks = [
        divergence_rate(resumo, rules.divergence_rate_max),
        sla_check(
            arrived_at=arrived_at,
            published_at=published_at,
            earlier=earlier,
            sla_minutes=rules.sla_minutes,
            warn_minutes=rules.sla_warn_minutes,
        )
        if applies
        else not_applicable(SLA_PUBLICACAO, why),
        deadline_check(data_referencia=day, deadlines=deadlines, published_at=published_at, earlier=earlier)
        if applies
        else not_applicable(PUBLICADA_NO_PRAZO, why),
    ]
    processing_min = (datetime.now(tz=UTC) - started_at).total_seconds() / 60
    timing = timer.metadata(total)
    log_stage(
        context,
        "divergencias",
        level="info" if publish else "error",
        counts={"divergencias": total, **{t: int(resumo[t]) for t in TIPOS}},
        duration_s=timing["duracao_s"].value,
        publicada=publish,
        taxa_divergencia=float(resumo["taxa_divergencia"]),
        minutos_processamento=round(processing_min, 2),
        minutos_desde_chegada=round((clock.now() - arrived_at).total_seconds() / 60, 2),
        checagens={r.check_name: r.passed for r in [*results, *timing_checks]},
    )
    yield dg.Output(
        DivergenciasDoDia(paths.root, linhas=total, publicada=publish),
        output_name="divergencias",
        metadata={
            "dagster/row_count": total,
            "dagster/uri": dg.MetadataValue.path(storage.table_uri("divergencias", day)),
            "publicada": publish,
            # The instant the SLA and the deadline judge this publication by (reconciliation_assets/sla.py):
            # later runs of D read it back (checks/deadlines.py earlier_publications).
            **({"publicada_em": published_at.astimezone(UTC).isoformat()} if published_at else {}),
            "taxa_divergencia": dg.MetadataValue.float(float(resumo["taxa_divergencia"])),
            **{t: int(resumo[t]) for t in TIPOS},
            "diferenca_nao_explicada": str(resumo["diferenca_nao_explicada"]),
            "catalogo_glue": catalog_metadata(catalog),
            "minutos_desde_chegada": dg.MetadataValue.float(
                round((clock.now() - resumo["arquivo_chegou_em"]).total_seconds() / 60, 2)
            ),
            **threshold_metadata(
                taxa_divergencia=float(resumo["taxa_divergencia"]),
                divergence_rate_max=rules.divergence_rate_max,
                minutos_processamento=processing_min,
                processing_warn_minutes=rules.sla_warn_minutes,
            ),
            **timing,
        },
    )
    yield dg.Output(
        PendenciasDoDia(paths.root, linhas=int(breaks["pendencias"]), publicada=publish),
        output_name="pendencias",
        metadata=breaks_metadata(
            breaks,
            previous_day=previous.data_referencia,
            published=publish,
            uri=storage.table_uri("pendencias", day),
            stale_later=stale_later,
        ),
    )
    yield from results
    yield from timing_checks
    yield currency_check(chain_status)
    yield catalog_check(catalog)


def _update_chain(context, storage, status, previous, conteudo, published_breaks) -> list[str]:
    """After D is published: record its chain status and re-derive the later dates' (breaks.py).

    Best effort: D is already published, so a failure here is logged, not raised; the statuses are
    re-derived by the next publication of any earlier date. Returns the later dates now stale.
    """
    day = status["data_referencia"]
    try:
        record_chain(storage, status)
        later = mark_later_dates(storage, day, conteudo, previous.atual, published_breaks)
        report_later_dates(context.instance, context.run_id, context.job_name, later)
    except Exception as exc:  # noqa: BLE001 - never turn a published day into a failed run
        context.log.error(
            f"{day}: publicado, mas o estado da cadeia de pendências não foi registrado: {exc!r}"
        )
        return []
    return [s["data_referencia"] for s in later if not s["atual"]]


def _register_catalog(context, glue_catalog: GlueCatalog, day: str) -> dict[str, Any]:
    """After D is published: register its tables and partition in the Glue Data Catalog.

    Best effort, like ``_update_chain``: D is already published, so a failure is logged and reported
    by the WARN check ``catalogo_glue`` (checks/catalog.py), never raised; the next publication of
    any date registers the tables again, and a re-run of D its partition.
    """
    if not glue_catalog.enabled:
        return {"estado": "desativado"}
    try:
        done = glue_catalog.register_day(day)
    except Exception as exc:  # noqa: BLE001 - never turn a published day into a failed run
        context.log.error(
            f"{day}: publicado, mas o registro no Glue (banco {glue_catalog.database}) falhou: {exc!r}; "
            "a próxima publicação registra de novo."
        )
        return {"estado": "falhou", "banco": glue_catalog.database, "erro": repr(exc)}
    context.log.info(f"{day}: tabelas e partição registradas no Glue (banco {glue_catalog.database}).")
    return {"estado": "registrado", "banco": glue_catalog.database, **done}


def breaks_metadata(
    facts: dict[str, Any], *, previous_day: str | None, published: bool, uri: str, stale_later: list[str]
) -> dict[str, Any]:
    """Counts per situacao and age band and the amount at stake, numeric so the UI plots them."""
    counts = (
        "novas",
        "recorrentes",
        "em_aberto",
        "resolvidas",
        "abertas",
        "faixa_0_1",
        "faixa_2_7",
        "faixa_8_30",
        "faixa_mais_30",
        "abertas_mais_7_dias",
    )
    return {
        "dagster/row_count": int(facts["pendencias"]),
        "dagster/uri": dg.MetadataValue.path(uri),
        "publicada": published,
        **{k: dg.MetadataValue.int(int(facts[k])) for k in counts},
        "valor_em_aberto": dg.MetadataValue.float(float(facts["valor_em_aberto"])),
        "valor_em_aberto_exato": str(facts["valor_em_aberto"]),
        "estado_anterior": previous_day or "nenhum (primeira data)",
        "datas_posteriores_desatualizadas": ", ".join(stale_later) or "-",
    }
