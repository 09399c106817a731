"""The dashboard page (Streamlit): filters from the query string, KPIs, charts, the paged table.

Every number comes from :class:`~reconciliation_assets.painel.consultas.Saida`; this module only lays
it out. Only the page being shown (100 rows) and the small aggregates travel to the browser; the
CSV export is generated when the button is clicked.
"""

from __future__ import annotations

import math
import time
from datetime import date

import streamlit as st

from reconciliation_assets.painel import graficos
from reconciliation_assets.painel.consultas import TAMANHO_PAGINA, Saida
from reconciliation_assets.painel.filtros import SEVERIDADES, Filtro, FiltroInvalido
from reconciliation_assets.painel.formato import TAXA, indicadores, inteiro
from reconciliation_assets.schemas import TIPOS_DIVERGENCIA

TITULO = "Conciliação fornecedor × base interna"
REABRIR_APOS_S = 60  # a new publication shows up within a minute without restarting the server


def _abrir() -> Saida:
    """The session's opened output, re-opened after a minute so new publications appear."""
    from reconciliation_assets.resources_config import reader_settings

    aberta = st.session_state.get("_saida")
    if aberta is not None and time.monotonic() - aberta[1] < REABRIR_APOS_S:
        return aberta[0]
    if aberta is not None:
        aberta[0].close()
    storage, engine = reader_settings()
    saida = Saida(storage, engine)
    st.session_state["_saida"] = (saida, time.monotonic())
    return saida


def _filtro_da_url(datas: list[date]) -> Filtro:
    """The query string's filter, with the default period (the latest published date) filled in."""
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    try:
        filtro = Filtro.de_parametros(params)
    except FiltroInvalido as erro:
        st.error(f"Filtro inválido na URL: {erro}. Mostrando a visão padrão.")
        filtro = Filtro()
    fim = filtro.fim or filtro.inicio or datas[-1]
    inicio = filtro.inicio or fim
    return filtro.com_periodo(inicio, fim)


def _para_url(filtro: Filtro) -> None:
    st.query_params.from_dict(filtro.parametros())


def _barra_lateral(saida: Saida, filtro: Filtro, datas: list[date]) -> Filtro:
    """Widgets that rewrite the query string, so the address bar always reproduces the view."""
    with st.sidebar:
        st.header("Filtros")
        periodo = st.date_input(
            "Período",
            value=(filtro.inicio, filtro.fim),
            min_value=datas[0],
            max_value=max(datas[-1], filtro.fim),
        )
        fornecedores = st.multiselect(
            "Fornecedor", saida.fornecedores(filtro), default=list(filtro.fornecedores), placeholder="todos"
        )
        tipos = st.multiselect("Tipo", TIPOS_DIVERGENCIA, default=list(filtro.tipos), placeholder="todos")
        severidades = st.multiselect(
            "Severidade", SEVERIDADES, default=list(filtro.severidades), placeholder="todas"
        )
    inicio, fim = (
        (periodo[0], periodo[-1]) if isinstance(periodo, tuple) and periodo else (filtro.inicio, filtro.fim)
    )
    novo = Filtro(inicio, fim, tuple(fornecedores), tuple(tipos), tuple(severidades))
    if novo != filtro:
        _para_url(novo)
    return novo


def _kpis(saida: Saida, filtro: Filtro) -> int:
    k = saida.kpis(filtro)
    celulas = [*st.columns(4), *st.columns(4)]
    for celula, (rotulo, valor) in zip(celulas, indicadores(k), strict=True):
        celula.metric(rotulo, valor, help=_ajuda_taxa(k["datas"]) if rotulo == TAXA else None)
    return int(k["total"])


def _ajuda_taxa(datas: int) -> str:
    return (
        f"Média da taxa publicada de {datas} data(s): ordens divergentes / ordens em escopo. "
        "Não muda com os filtros de fornecedor, tipo e severidade."
    )


def _graficos(saida: Saida, filtro: Filtro) -> None:
    esquerda, direita = st.columns(2)
    esquerda.altair_chart(graficos.por_tipo(saida.por_tipo(filtro)), width="stretch")
    direita.altair_chart(graficos.por_severidade(saida.por_severidade(filtro)), width="stretch")
    esquerda.altair_chart(graficos.top_fornecedores(saida.top_fornecedores(filtro)), width="stretch")
    direita.altair_chart(graficos.tendencia(saida.tendencia(filtro.fim)), width="stretch")
    faixas = saida.pendencias_abertas(filtro)
    if faixas is None:
        esquerda.info("Pendências por idade: não disponível (a tabela `pendencias` ainda não foi publicada).")
    else:
        esquerda.altair_chart(graficos.faixas_idade(faixas), width="stretch")


def _tabela(saida: Saida, filtro: Filtro, total: int) -> None:
    st.subheader("Divergências")
    paginas = max(1, math.ceil(total / TAMANHO_PAGINA))
    numero = st.number_input(f"Página (de {paginas})", min_value=1, max_value=paginas, value=1, step=1)
    primeira = (numero - 1) * TAMANHO_PAGINA
    st.caption(
        f"Linhas {inteiro(min(primeira + 1, total))}–{inteiro(min(primeira + TAMANHO_PAGINA, total))} de {inteiro(total)}"
    )
    st.dataframe(saida.pagina(filtro, int(numero)), hide_index=True, width="stretch")
    storage_env = saida.storage, saida.engine

    def exportar() -> bytes:
        # Runs on another thread than the page: its own connection to the same output.
        export = Saida(*storage_env)
        try:
            return export.exportar_csv(filtro)
        finally:
            export.close()

    st.download_button(
        f"Exportar CSV ({inteiro(total)} linhas)",
        data=exportar,
        file_name=f"divergencias_{filtro.inicio}_{filtro.fim}.csv",
        mime="text/csv",
        on_click="ignore",
    )


def _sem_dados(saida: Saida, filtro: Filtro, datas: list[date]) -> date | None:
    """When the period has no publication: say why, and which good date is shown instead (or None)."""
    anteriores = [d for d in datas if d <= filtro.fim]
    estado = saida.estado_da_data(filtro.fim)
    if estado.ultima_falhou and anteriores:
        st.error(f"{estado.aviso()} Mostrando a última data publicada com sucesso: {anteriores[-1]}.")
        return anteriores[-1]
    st.warning(
        f"Nenhuma data publicada no período {filtro.inicio} a {filtro.fim}. "
        f"Datas publicadas: de {datas[0]} a {datas[-1]} ({len(datas)} datas)."
    )
    return None


def render() -> None:
    st.set_page_config(page_title=TITULO, layout="wide")
    st.title(TITULO)
    saida = _abrir()
    datas = saida.datas_publicadas()
    if not datas:
        st.info(
            f"Nenhuma data publicada em `{saida.storage.output_uri}` ainda. "
            "Assim que a primeira execução do job daily_reconciliation publicar, os números aparecem aqui."
        )
        return
    filtro = _barra_lateral(saida, _filtro_da_url(datas), datas)
    no_periodo = [d for d in datas if filtro.inicio <= d <= filtro.fim]
    if not no_periodo:
        substituta = _sem_dados(saida, filtro, datas)
        if substituta is None:
            return
        filtro = filtro.com_periodo(substituta, substituta)
    st.markdown(
        f"**Mostrando:** {filtro.descricao()} · {len([d for d in datas if filtro.inicio <= d <= filtro.fim])} data(s) publicada(s)"
    )
    for aviso in saida.avisos(filtro, datas):
        st.warning(aviso)
    total = _kpis(saida, filtro)
    _graficos(saida, filtro)
    _tabela(saida, filtro, total)
