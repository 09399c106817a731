"""Asset ``relatorio_diario``: D's static HTML report, rendered from what is published for D.

It runs after the publication, not inside it: the report is a *reading* of the published output
(``Saida`` over ``<output>``, exactly what the dashboard shows for D), and it needs the
publication's record (job id, completion time) that only exists once D is committed. Being
derived, it can always be rendered again from the same publication, byte for byte; if this step
fails, D stays published and "re-execute from failure" renders only the report. Its manifest
names the publication it was rendered from, so a report older than D's current publication (a
crash between the two) is recognisable.
"""

import hashlib
from datetime import date

import dagster as dg

from reconciliation_assets.assets.common import GROUP, OWNERS, TAGS, StageTimer
from reconciliation_assets.engine.sql_models import EngineSettings
from reconciliation_assets.observability import log_stage
from reconciliation_assets.painel.consultas import Saida
from reconciliation_assets.painel.relatorio import Relatorio, reunir
from reconciliation_assets.painel.relatorio_html import renderizar
from reconciliation_assets.partitions import daily_partitions
from reconciliation_assets.run_guard import asset_step
from resources.notify import Notifier
from resources.settings import DuckDBEngine, ReconRules
from resources.storage import SCHEMA_VERSION, ReconStorage

MANIFEST = "relatorio"


def render_report(
    storage: ReconStorage, engine: EngineSettings, day: str, painel: str | None
) -> tuple[Relatorio, bytes]:
    """What D's report shows and its ``index.html`` as UTF-8 bytes, from the published output
    (the same bytes every time for the same publication)."""
    saida = Saida(storage, engine)
    try:
        relatorio = reunir(saida, date.fromisoformat(day))
    finally:
        saida.close()
    return relatorio, renderizar(relatorio, painel).encode("utf-8")


@dg.asset(
    partitions_def=daily_partitions,
    deps=["resumo_conciliacao"],
    group_name=GROUP,
    owners=OWNERS,
    tags=TAGS,
    kinds={"html"},
    description=(
        "Relatório diário estático (um index.html autocontido por data, para a área de negócio): KPIs, "
        "gráficos em SVG com os números em tabelas, tendência de 30 datas, pendências por idade e as "
        "divergências HIGH; lido do que está publicado para a data."
    ),
)
def relatorio_diario(
    context: dg.AssetExecutionContext,
    storage: ReconStorage,
    duckdb_engine: DuckDBEngine,
    notifier: Notifier,
    rules: ReconRules,
) -> dg.MaterializeResult:
    with asset_step(context, rules, "relatorio_diario"):
        timer = StageTimer()
        day = context.partition_key
        painel = notifier.painel_link(day)
        relatorio, body = render_report(storage, duckdb_engine.settings(), day, painel)
        uri = storage.report_uri(day)
        storage.write_bytes(uri, body, "text/html; charset=utf-8")
        manifest = {
            "relatorio": MANIFEST,
            "data_referencia": day,
            "arquivo": uri,
            "sha256": hashlib.sha256(body).hexdigest(),
            "bytes": len(body),
            "job_id": context.run_id,
            "publicacao_job_id": relatorio.job_id,
            "publicacao_concluida_em": relatorio.publicada_em.isoformat(),
            "painel": painel,
            "schema_version": SCHEMA_VERSION,
        }
        storage.write_json(storage.manifest_uri(day, MANIFEST), manifest)
        timing = timer.metadata(1)
        log_stage(
            context,
            "relatorio_diario",
            counts={"bytes": len(body)},
            duration_s=timing["duracao_s"].value,
            publicacao_job_id=manifest["publicacao_job_id"],
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/uri": dg.MetadataValue.path(uri),
                "sha256": manifest["sha256"],
                "bytes": len(body),
                "publicacao_job_id": relatorio.job_id,
                "painel": dg.MetadataValue.url(painel) if painel else "-",
                **timing,
            }
        )
