"""The daily report as one self-contained HTML file, readable offline and inside an e-mail.

Why it looks like 1999: mail clients drop ``<script>``, often strip ``<style>`` and block remote
images, and some strip inline SVG. So every style is an inline attribute, the layout is tables, the
charts are the dashboard's own Altair specs rendered to inline SVG (``graficos.svg``), and each
chart's numbers are also printed as a plain table beside it: with the SVG gone, nothing is lost.
Nothing here reads a clock or the environment: the same :class:`Relatorio` gives the same bytes.
Rows are rendered in Python only for the small, bounded lists the report holds (aggregates, the
30-date trend, at most ``LINHAS_HIGH`` divergences); every figure was computed in DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from reconciliation_assets.painel import graficos
from reconciliation_assets.painel.formato import indicadores, inteiro, percentual, reais
from reconciliation_assets.painel.relatorio import LINHAS_HIGH, Relatorio

TITULO = "Conciliação fornecedor × base interna"
CORPO = "margin:0;padding:16px;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#1f2933"
FOLHA = "max-width:1160px;margin:0 auto;background:#ffffff;padding:24px;border:1px solid #d9dde3"
H1 = "font-size:22px;margin:0 0 6px 0"
H2 = "font-size:17px;margin:28px 0 8px 0;padding-bottom:4px;border-bottom:2px solid #2c3e50"
NOTA = "font-size:13px;color:#52606d;margin:4px 0"
TABELA = "border-collapse:collapse;font-size:13px"
TH = "text-align:left;padding:4px 8px;background:#eef1f4;border:1px solid #d9dde3"
TD = "padding:4px 8px;border:1px solid #d9dde3;vertical-align:top"
TD_NUM = TD + ";text-align:right;white-space:nowrap"
KPI_CELULA = "padding:10px 14px;border:1px solid #d9dde3;width:25%;vertical-align:top"
KPI_ROTULO = "font-size:12px;color:#52606d"
KPI_VALOR = "font-size:22px;font-weight:bold;margin-top:4px"
LINK = "color:#1f5fa8"

Coluna = tuple[str, str, Callable[[Any], str]]  # key, header, formatter


def _texto(valor: Any) -> str:
    if valor is None:
        return "-"
    if isinstance(valor, date):
        return valor.isoformat()
    return str(valor)


def _celula(valor: Any, formato: Callable[[Any], str]) -> str:
    numero = isinstance(valor, int | float | Decimal) and not isinstance(valor, bool)
    return f'<td style="{TD_NUM if numero else TD}">{escape(formato(valor))}</td>'


def tabela(ident: str, colunas: Sequence[Coluna], linhas: Iterable[dict[str, Any]], vazia: str) -> str:
    """A plain HTML table (``id`` so tests and readers can find it); ``vazia`` when there are no rows."""
    cabecalho = "".join(f'<th style="{TH}">{escape(titulo)}</th>' for _, titulo, _ in colunas)
    corpo = [
        "<tr>" + "".join(_celula(linha[chave], fmt) for chave, _, fmt in colunas) + "</tr>"
        for linha in linhas
    ]
    if not corpo:
        corpo = [f'<tr><td style="{TD}" colspan="{len(colunas)}">{escape(vazia)}</td></tr>']
    return (
        f'<table id="{ident}" style="{TABELA}"><thead><tr>{cabecalho}</tr></thead>'
        f"<tbody>{''.join(corpo)}</tbody></table>"
    )


def _kpis(relatorio: Relatorio) -> str:
    celulas = [
        f'<td style="{KPI_CELULA}"><div style="{KPI_ROTULO}">{escape(rotulo)}</div>'
        f'<div style="{KPI_VALOR}">{escape(valor)}</div></td>'
        for rotulo, valor in indicadores(relatorio.kpis)
    ]
    linhas = "".join(f"<tr>{''.join(celulas[i : i + 4])}</tr>" for i in range(0, len(celulas), 4))
    return (
        f'<table id="kpis" role="presentation" style="border-collapse:collapse;width:100%">{linhas}</table>'
    )


def _grafico(titulo: str, svg: str, dados: str, nota: str = "") -> str:
    """One chart: the SVG on the left, its numbers on the right (what remains if SVG is stripped)."""
    extra = f'<p style="{NOTA}">{escape(nota)}</p>' if nota else ""
    return (
        f'<h2 style="{H2}">{escape(titulo)}</h2>{extra}'
        '<table role="presentation" style="border-collapse:collapse;width:100%"><tr>'
        f'<td style="vertical-align:top;padding:0 16px 0 0;width:460px">{svg}</td>'
        f'<td style="vertical-align:top;padding:0">{dados}</td></tr></table>'
    )


def _secoes_graficos(r: Relatorio) -> list[str]:
    n = ("divergencias", "divergências", inteiro)
    secoes = [
        _grafico(
            "Divergências por tipo",
            graficos.svg(graficos.por_tipo(r.por_tipo)),
            tabela("tabela-por-tipo", [("tipo_divergencia", "tipo", _texto), n], r.por_tipo, "nenhuma"),
        ),
        _grafico(
            "Divergências por severidade",
            graficos.svg(graficos.por_severidade(r.por_severidade)),
            tabela(
                "tabela-por-severidade",
                [("severidade", "severidade", _texto), n],
                r.por_severidade,
                "nenhuma",
            ),
        ),
        _grafico(
            "Top 10 fornecedores por divergências",
            graficos.svg(graficos.top_fornecedores(r.top_fornecedores)),
            tabela(
                "tabela-top-fornecedores",
                [("fornecedor_id", "fornecedor", _texto), n],
                r.top_fornecedores,
                "nenhum",
            ),
        ),
        _grafico(
            "Tendência: últimas 30 datas",
            graficos.svg(graficos.tendencia(r.tendencia)),
            tabela(
                "tabela-tendencia",
                [
                    ("data_referencia", "data de referência", _texto),
                    n,
                    ("taxa_divergencia", "taxa de divergência", percentual),
                    ("linhas_csv", "linhas do arquivo", inteiro),
                    ("linhas_quarentena", "quarentena", inteiro),
                ],
                r.tendencia,
                "nenhuma data publicada",
            ),
            f"{len(r.tendencia)} data(s) publicada(s) até {r.dia.isoformat()}, da mais antiga à mais nova.",
        ),
    ]
    titulo = "Pendências abertas por idade (dias)"
    if r.faixas_idade is None:
        secoes.append(
            f'<h2 style="{H2}">{titulo}</h2><p id="pendencias-indisponivel" style="{NOTA}">'
            "Pendências por idade: não disponível (a tabela <code>pendencias</code> não está publicada).</p>"
        )
    else:
        secoes.append(
            _grafico(
                titulo,
                graficos.svg(graficos.faixas_idade(r.faixas_idade)),
                tabela(
                    "tabela-faixas-idade",
                    [
                        ("faixa_idade", "faixa de idade", _texto),
                        ("pendencias", "pendências abertas", inteiro),
                        ("valor", "valor em aberto", reais),
                    ],
                    r.faixas_idade,
                    "nenhuma pendência aberta",
                ),
                f"Em {r.dia.isoformat()}: pendências NOVA, RECORRENTE e EM_ABERTO.",
            )
        )
    return secoes


def _high(r: Relatorio) -> str:
    mostradas, total = len(r.divergencias_high), int(r.kpis["high"])
    colunas: list[Coluna] = [
        ("fornecedor_id", "fornecedor", _texto),
        ("ordem_id", "ordem", _texto),
        ("nome", "nome", _texto),
        ("tipo_divergencia", "tipo", _texto),
        ("detalhes", "detalhes", _texto),
        ("data", "data", _texto),
        ("valor_csv", "valor no arquivo", reais),
        ("valor_base", "valor na base", reais),
        ("valor_diferenca", "diferença", reais),
    ]
    return (
        f'<h2 style="{H2}">Divergências de severidade HIGH</h2>'
        f'<p style="{NOTA}">{inteiro(mostradas)} de {inteiro(total)} (no máximo {LINHAS_HIGH}, na ordem da '
        "tabela do painel: por ordem e tipo). Nomes mascarados.</p>"
        + tabela("tabela-high", colunas, r.divergencias_high, "nenhuma divergência HIGH")
    )


def renderizar(r: Relatorio, painel: str | None = None) -> str:
    """The whole ``index.html`` of ``r``; ``painel`` is the dashboard link for D (or None)."""
    dia = r.dia.isoformat()
    publicada = r.publicada_em.strftime("%d/%m/%Y %H:%M:%S")
    link = (
        f'<p style="{NOTA}">Painel interativo desta data: <a id="link-painel" style="{LINK}" '
        f'href="{escape(painel)}">{escape(painel)}</a></p>'
        if painel
        else ""
    )
    partes = [
        "<!DOCTYPE html>",
        '<html lang="pt-BR"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(TITULO)} — {dia}</title></head>",
        f'<body style="{CORPO}"><div style="{FOLHA}">',
        f'<h1 style="{H1}">{escape(TITULO)} — {r.dia.strftime("%d/%m/%Y")}</h1>',
        f'<p id="publicacao" style="{NOTA}">Data de referência {dia} · publicada em {publicada} '
        f"(horário de Brasília) pelo job {escape(r.job_id)}</p>",
        link,
        f'<h2 style="{H2}">Indicadores</h2>',
        _kpis(r),
        f'<p style="{NOTA}">Taxa de divergência: a publicada da data (ordens divergentes / ordens em escopo).</p>',
        *_secoes_graficos(r),
        _high(r),
        f'<p style="{NOTA};margin-top:24px">Relatório estático da publicação do job {escape(r.job_id)}; '
        "os números são os do painel para esta data, sem outros filtros.</p>",
        "</div></body></html>",
    ]
    return "\n".join(p for p in partes if p) + "\n"
