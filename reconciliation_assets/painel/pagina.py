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
from reconciliation_assets.painel.formato import TAXA, VALOR_EM_ABERTO, indicadores, inteiro, reais_curto
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


def _acesso_liberado() -> bool:
    """With ``RECON_PAINEL_LOGIN=oidc`` nothing is shown until the user logged in (``st.login``)."""
    from reconciliation_assets.resources_config import painel_access

    acesso = painel_access()
    if acesso.login != "oidc":
        return True
    if st.user.get("is_logged_in"):
        with st.sidebar:
            st.caption(f"Conectado como {st.user.get('email') or st.user.get('name') or 'usuário'}")
            st.button("Sair", on_click=st.logout)
        return True
    st.info("Este painel exige login com a conta da empresa.")
    st.button("Entrar", on_click=st.login, args=(acesso.provedor,) if acesso.provedor else ())
    return False


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
            max_value=max(datas[-1], filtro.periodo()[1]),
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
        if rotulo == VALOR_EM_ABERTO:  # R$ 2.407.714.478,12 does not fit a card: short, exact in the help
            ajuda = f"Exato: {valor}. Valor em jogo das pendências abertas na última data do período."
            celula.metric(rotulo, reais_curto(k["valor_em_aberto"]), help=ajuda)
        else:
            celula.metric(rotulo, valor, help=_ajuda_taxa(k["datas"]) if rotulo == TAXA else None)
    return int(k["total"])


def _ajuda_taxa(datas: int) -> str:
    return (
        f"Média da taxa publicada de {datas} data(s): ordens divergentes / ordens em escopo. "
        "Não muda com os filtros de fornecedor, tipo e severidade."
    )


def _grafico(coluna, chart) -> None:
    # Streamlit sizes the element to the spec's height: title and axes must fit inside it, or they
    # spill over the chart above or below ("fit" + "padding" makes the size the whole drawing's).
    coluna.altair_chart(graficos.em_portugues(chart), width="stretch", theme=None)


def _graficos(saida: Saida, filtro: Filtro) -> None:
    # One row of two columns per pair: a chart stacked under two others in one column has its
    # title drawn under the chart above it (seen in Chromium).
    esquerda, direita = st.columns(2)
    _grafico(esquerda, graficos.por_tipo(saida.por_tipo(filtro)))
    _grafico(direita, graficos.por_severidade(saida.por_severidade(filtro)))
    esquerda, direita = st.columns(2)
    _grafico(esquerda, graficos.top_fornecedores(saida.top_fornecedores(filtro)))
    _grafico(direita, graficos.tendencia(saida.tendencia(filtro.periodo()[1])))
    esquerda, _ = st.columns(2)
    faixas = saida.pendencias_abertas(filtro)
    if faixas is None:
        esquerda.info("Pendências por idade: não disponível (a tabela `pendencias` ainda não foi publicada).")
    else:
        _grafico(esquerda, graficos.faixas_idade(faixas))


@st.fragment
def _tabela(saida: Saida, filtro: Filtro, total: int) -> None:
    """A fragment: turning a page reruns only the table, not the KPIs and charts above it."""
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
    fim = filtro.periodo()[1]
    anteriores = [d for d in datas if d <= fim]
    estado = saida.estado_da_data(fim)
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
    if not _acesso_liberado():
        return
    saida = _abrir()
    datas = saida.datas_publicadas()
    if not datas:
        st.info(
            f"Nenhuma data publicada em `{saida.storage.output_uri}` ainda. "
            "Assim que a primeira execução do job daily_reconciliation publicar, os números aparecem aqui."
        )
        return
    filtro = _barra_lateral(saida, _filtro_da_url(datas), datas)
    inicio, fim = filtro.periodo()
    no_periodo = [d for d in datas if inicio <= d <= fim]
    if not no_periodo:
        substituta = _sem_dados(saida, filtro, datas)
        if substituta is None:
            return
        filtro = filtro.com_periodo(substituta, substituta)
    inicio, fim = filtro.periodo()
    st.markdown(
        f"**Mostrando:** {filtro.descricao()} · {len([d for d in datas if inicio <= d <= fim])} data(s) publicada(s)"
    )
    for aviso in saida.avisos(filtro, datas):
        st.warning(aviso)
    total = _kpis(saida, filtro)
    _graficos(saida, filtro)
    _tabela(saida, filtro, total)
