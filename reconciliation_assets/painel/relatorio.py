"""What the daily report of date D shows, read from what is *published* for D (SPEC 7).

The report is the dashboard's default view of D frozen in a file: every figure comes from
:class:`~reconciliation_assets.painel.consultas.Saida` with the filter "date D, nothing else", so
it cannot disagree with the dashboard, and the publication record (``publicacao.json``) gives the
job id and the time shown, so a re-render of the same publication is the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from reconciliation_assets.painel.consultas import Saida
from reconciliation_assets.painel.filtros import Filtro
from reconciliation_assets.partitions import TIMEZONE
from reconciliation_assets.publication import published_record

LINHAS_HIGH = 50  # the first HIGH divergences in the dashboard's table order: a mail stays readable
COLUNAS_HIGH = (
    "fornecedor_id",
    "ordem_id",
    "nome",
    "tipo_divergencia",
    "detalhes",
    "data",
    "valor_csv",
    "valor_base",
    "valor_diferenca",
)


class RelatorioIndisponivel(RuntimeError):
    """D has no complete publication to report on (no record, or its summary is not published)."""


@dataclass(frozen=True)
class Relatorio:
    """Everything the report of D shows; small (aggregates and at most ``LINHAS_HIGH`` rows)."""

    dia: date
    job_id: str
    publicada_em: datetime  # the publication's own completion time, in the business's time zone
    kpis: dict[str, Any]
    por_tipo: list[dict[str, Any]]
    por_severidade: list[dict[str, Any]]
    top_fornecedores: list[dict[str, Any]]
    tendencia: list[dict[str, Any]]
    faixas_idade: list[dict[str, Any]] | None  # None: ``pendencias`` is not published
    divergencias_high: list[dict[str, Any]]


def reunir(saida: Saida, dia: date) -> Relatorio:
    """D's figures from the opened output; raises :class:`RelatorioIndisponivel` if D is not published."""
    record = published_record(saida.storage, dia.isoformat())
    if record is None or dia not in saida.datas_publicadas():
        raise RelatorioIndisponivel(f"{dia}: nenhuma publicação completa para o relatório")
    filtro = Filtro(dia, dia)
    high = saida.pagina(Filtro(dia, dia, severidades=("HIGH",)), 1, tamanho=LINHAS_HIGH)
    return Relatorio(
        dia=dia,
        job_id=record["job_id"],
        publicada_em=datetime.fromisoformat(record["concluida_em"]).astimezone(ZoneInfo(TIMEZONE)),
        kpis=saida.kpis(filtro),
        por_tipo=saida.por_tipo(filtro),
        por_severidade=saida.por_severidade(filtro),
        top_fornecedores=saida.top_fornecedores(filtro),
        tendencia=saida.tendencia(dia),
        faixas_idade=saida.pendencias_abertas(filtro),
        divergencias_high=high.select(list(COLUNAS_HIGH)).to_pylist(),
    )
