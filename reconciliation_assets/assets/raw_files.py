"""Asset ``arquivos_fornecedor``: the day's supplier CSV files, staged as physical lines."""

import shutil
from datetime import UTC, datetime

import dagster as dg

from reconciliation_assets.assets.common import (
    GROUP,
    OWNERS,
    TAGS,
    WORK_AREA,
    StageTimer,
    markdown_table,
    step_files,
)
from reconciliation_assets.engine.header import HeaderError
from reconciliation_assets.ingest import SourceFile, stage_files
from reconciliation_assets.observability import log_stage
from reconciliation_assets.partitions import daily_partitions
from reconciliation_assets.publication import recover
from reconciliation_assets.run_guard import asset_step
from reconciliation_assets.work_area import ArquivosDoDia
from resources.settings import ReconRules
from resources.storage import ReconStorage


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    owners=OWNERS,
    tags=TAGS,
    kinds={"csv", "s3", "python"},
    io_manager_key=WORK_AREA,
    description=(
        "Uma linha física por linha dos arquivos do fornecedor para a data (todos os *.csv em "
        "<ingress>/D/, em ordem de nome), com a codificação detectada no arquivo inteiro."
    ),
)
def arquivos_fornecedor(
    context: dg.AssetExecutionContext, storage: ReconStorage, rules: ReconRules
) -> dg.Output[ArquivosDoDia]:
    with asset_step(context, rules, "arquivos_fornecedor"):
        # A publication of D that a crash interrupted is finished before anything else happens.
        if recover(storage, context.partition_key) is not None:
            context.log.warning(
                f"{context.partition_key}: publicação interrompida concluída antes desta execução."
            )
        return _stage_day(context, storage)


def _stage_day(context: dg.AssetExecutionContext, storage: ReconStorage) -> dg.Output[ArquivosDoDia]:
    timer = StageTimer()
    day = context.partition_key
    paths = step_files(context, storage.work_dir)
    shutil.rmtree(paths.root, ignore_errors=True)  # a re-run starts from the files, never from leftovers
    remote_files = storage.list_day_files(day)
    if not remote_files:
        raise dg.Failure(
            description=f"Nenhum arquivo *.csv para {day} em {storage.day_folder(day)}.",
            allow_retries=False,
        )
    sources = [
        SourceFile(
            name=f.name,
            local_path=storage.fetch(f, paths.inputs),
            uri=f.uri,
            arrived_at=f.last_modified.timestamp(),
            version=f.version,
        )
        for f in remote_files
    ]
    try:
        staged = stage_files(sources, paths.linhas, paths.arquivos)
    except HeaderError as exc:
        raise dg.Failure(
            description=f"Arquivo rejeitado, nada publicado para {day}: {exc}", allow_retries=False
        ) from exc
    physical = sum(s.linhas_fisicas for s in staged)
    arrived = max(s.chegou_em for s in staged)
    for s in staged:
        if s.encoding == "cp1252":
            context.log.warning(f"{s.arquivo}: não é UTF-8 válido; lido como Windows-1252.")
        if s.colunas_extras:
            context.log.info(f"{s.arquivo}: colunas extras ignoradas: {s.colunas_extras}")
    timing = timer.metadata(physical)
    log_stage(
        context,
        "arquivos_fornecedor",
        counts={
            "arquivos": len(staged),
            "linhas_fisicas": physical,
            "bytes": sum(s.size_bytes for s in staged),
        },
        duration_s=timing["duracao_s"].value,
        arquivo_chegou_em=datetime.fromtimestamp(arrived, tz=UTC).isoformat(),
        codificacoes=sorted({s.encoding for s in staged}),
    )
    return dg.Output(
        ArquivosDoDia(
            paths.root,
            linhas_fisicas=physical,
            chegou_em=arrived,
            sha256={s.arquivo: s.sha256 for s in sorted(staged, key=lambda s: s.arquivo)},
        ),
        metadata={
            "arquivos": len(staged),
            "linhas_fisicas": physical,
            "bytes": sum(s.size_bytes for s in staged),
            "arquivo_chegou_em": datetime.fromtimestamp(arrived, tz=UTC).isoformat(),
            "codificacoes": ", ".join(sorted({s.encoding for s in staged})),
            "arquivos_detalhe": dg.MetadataValue.md(
                markdown_table(
                    [
                        {
                            "arquivo": s.arquivo,
                            "codificação": s.encoding,
                            "delimitador": repr(s.delimitador),
                            "linhas físicas": s.linhas_fisicas,
                            "bytes": s.size_bytes,
                            "colunas extras": s.colunas_extras or "-",
                            "sha256": s.sha256[:16],
                        }
                        for s in staged
                    ]
                )
            ),
            "dagster/uri": dg.MetadataValue.path(storage.day_folder(day)),
            "dagster/row_count": physical,
            **timing,
        },
    )
