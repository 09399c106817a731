"""The charts of SPEC 7, defined once (Altair / Vega-Lite) for the dashboard and the daily report.

The dashboard hands them to ``st.altair_chart`` (Vega is bundled with Streamlit, no CDN); the report
renders the same specs to inline SVG with ``vl-convert`` (no JavaScript, opens offline and in mail).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import altair as alt

from reconciliation_assets.painel.filtros import SEVERIDADES
from reconciliation_assets.schemas import FAIXAS_IDADE

CORES_SEVERIDADE = {"HIGH": "#c0392b", "MEDIUM": "#e67e22", "LOW": "#7f8c8d"}
# Numbers and dates as the business reads them (1.234,50; "mar"), in the dashboard and the report.
LOCALE_PT_BR = {
    "number": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["R$ ", ""]},
    "time": {
        "dateTime": "%A, %e de %B de %Y, %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["domingo", "segunda", "terça", "quarta", "quinta", "sexta", "sábado"],
        "shortDays": ["dom", "seg", "ter", "qua", "qui", "sex", "sáb"],
        "months": [
            "janeiro",
            "fevereiro",
            "março",
            "abril",
            "maio",
            "junho",
            "julho",
            "agosto",
            "setembro",
            "outubro",
            "novembro",
            "dezembro",
        ],
        "shortMonths": ["jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"],
    },
}
LARGURA = 360
ALTURA = 220


def _valores(rows: list[dict[str, Any]]) -> alt.Data:
    """Rows as inline JSON values (dates as ISO text, money as float: only for drawing)."""

    def cell(v: Any) -> Any:
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, Decimal):
            return float(v)
        return v

    return alt.Data(values=[{k: cell(v) for k, v in r.items()} for r in rows])


def por_tipo(rows: list[dict[str, Any]]) -> alt.Chart:
    return (
        alt.Chart(_valores(rows), title="Divergências por tipo", width=LARGURA, height=ALTURA)
        .mark_arc(innerRadius=50)
        .encode(
            theta=alt.Theta("divergencias:Q"),
            color=alt.Color("tipo_divergencia:N", title="tipo"),
            tooltip=["tipo_divergencia:N", "divergencias:Q"],
        )
    )


def por_severidade(rows: list[dict[str, Any]]) -> alt.Chart:
    return (
        alt.Chart(_valores(rows), title="Divergências por severidade", width=LARGURA, height=ALTURA)
        .mark_bar()
        .encode(
            x=alt.X("severidade:N", sort=list(SEVERIDADES), title="severidade", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("divergencias:Q", title="divergências"),
            color=alt.Color(
                "severidade:N",
                scale=alt.Scale(domain=list(CORES_SEVERIDADE), range=list(CORES_SEVERIDADE.values())),
                legend=None,
            ),
            tooltip=["severidade:N", "divergencias:Q"],
        )
    )


def top_fornecedores(rows: list[dict[str, Any]]) -> alt.Chart:
    return (
        alt.Chart(
            _valores(rows), title="Top 10 fornecedores por divergências", width=LARGURA, height=alt.Step(20)
        )
        .mark_bar()
        .encode(
            y=alt.Y("fornecedor_id:N", sort="-x", title="fornecedor"),
            x=alt.X("divergencias:Q", title="divergências"),
            tooltip=["fornecedor_id:N", "divergencias:Q"],
        )
    )


def tendencia(rows: list[dict[str, Any]]) -> alt.Chart:
    base = alt.Chart(_valores(rows), title="Tendência: últimas 30 datas", width=LARGURA, height=ALTURA)
    return base.mark_line(point=True).encode(
        x=alt.X(
            "data_referencia:T",
            title="data de referência",
            axis=alt.Axis(format="%d/%m", tickCount={"interval": "day", "step": max(1, len(rows) // 8)}),
        ),
        y=alt.Y("divergencias:Q", title="divergências"),
        tooltip=["data_referencia:T", "divergencias:Q", alt.Tooltip("taxa_divergencia:Q", format=".2%")],
    )


def faixas_idade(rows: list[dict[str, Any]]) -> alt.Chart:
    return (
        alt.Chart(_valores(rows), title="Pendências abertas por idade (dias)", width=LARGURA, height=ALTURA)
        .mark_bar()
        .encode(
            x=alt.X(
                "faixa_idade:N", sort=list(FAIXAS_IDADE), title="faixa de idade", axis=alt.Axis(labelAngle=0)
            ),
            y=alt.Y("pendencias:Q", title="pendências abertas"),
            tooltip=["faixa_idade:N", "pendencias:Q", alt.Tooltip("valor:Q", format=",.2f")],
        )
    )


def em_portugues(chart: alt.Chart) -> alt.Chart:
    """The chart with the pt-BR number and date formats (a top-level setting: applied last)."""
    return chart.configure(locale=LOCALE_PT_BR)


def svg(chart: alt.Chart) -> str:
    """The chart as a standalone SVG element (fonts and shapes inline; no script, no network)."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(em_portugues(chart).to_dict())
