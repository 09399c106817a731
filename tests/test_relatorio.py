"""The daily report on a real published output: exact figures, self-contained, byte-stable.

The output is the session's three published dates (``tests/published_output.py``): the daily job
itself wrote each date's ``relatorio/data_referencia=D/index.html``. Every expected value is an
independent DuckDB query over the published Parquet, formatted as the business reads it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from reconciliation_assets.assets.report import render_report
from reconciliation_assets.observability import mask_nome
from reconciliation_assets.resources_config import reader_settings
from tests.published_output import PublishedOutput

ROOT = Path(__file__).resolve().parents[1]
ORDEM = "ordem_id, tipo_divergencia"  # the dashboard's table order within one date and severity
PAINEL = "https://painel.empresa.example/recon"


def pt(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def reais(v: Decimal | None) -> str:
    if v is None:
        return "-"
    sign = "-" if v < 0 else ""
    return sign + "R$ " + f"{abs(v):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def pct(taxa: float) -> str:
    return f"{taxa * 100:.2f}".replace(".", ",") + "%"


class Tabelas(HTMLParser):
    """Every ``<table id=…>``'s body rows as cell texts, the KPI cells, every href and src."""

    def __init__(self) -> None:
        super().__init__()
        self.tabelas: dict[str, list[list[str]]] = {}
        self.kpis: dict[str, str] = {}
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self._pilha: list[str] = []
        self._linha: list[str] | None = None
        self._celula: list[str] | None = None
        self._divs: list[str] = []
        self._em_th = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])
        if tag == "table" and a.get("id"):
            self._pilha.append(a["id"])
            self.tabelas.setdefault(a["id"], [])
        elif tag == "tr" and self._pilha:
            self._linha = []
        elif tag in ("td", "th") and self._linha is not None:
            self._celula, self._em_th = [], tag == "th"
            self._divs = []
        elif tag == "div" and self._celula is not None:
            self._divs.append("")

    def handle_data(self, data):
        if self._celula is not None:
            self._celula.append(data)
            if self._divs:
                self._divs[-1] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._celula is not None:
            texto = "".join(self._celula).strip()
            if self._pilha and self._pilha[-1] == "kpis" and len(self._divs) == 2:
                self.kpis[self._divs[0].strip()] = self._divs[1].strip()
            if not self._em_th:
                self._linha.append(texto)
            self._celula = None
        elif tag == "tr" and self._linha is not None:
            if self._linha and self._pilha[-1] != "kpis":
                self.tabelas[self._pilha[-1]].append(self._linha)
            self._linha = None
        elif tag == "table" and self._pilha:
            self._pilha.pop()


def parse(html: str) -> Tabelas:
    parser = Tabelas()
    parser.feed(html)
    return parser


def report_file(out: Path, day: str) -> Path:
    return out / "relatorio" / f"data_referencia={day}" / "index.html"


def q(out: Path, query: str) -> list[tuple]:
    con = duckdb.connect()
    for table in ("divergencias", "resumo_conciliacao", "pendencias"):
        con.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{out}/{table}/*/*.parquet', hive_partitioning = true)"
        )
    return con.execute(query).fetchall()


def render(
    monkeypatch, published: PublishedOutput, day: str, painel: str | None = None, output: Path | None = None
):
    for k, v in published.env().items():
        monkeypatch.setenv(k, v)
    if output is not None:
        monkeypatch.setenv("RECON_OUTPUT_URI", str(output))
    storage, engine = reader_settings()
    return render_report(storage, engine, day, painel)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_the_report_of_each_date_has_exactly_the_published_figures(published_output, index):
    out, day = published_output.output, published_output.dates[index]
    page = parse(report_file(out, day).read_text(encoding="utf-8"))
    w = f"data_referencia = DATE '{day}'"
    total, t1, t2, t3, high = q(
        out,
        "SELECT count(*), count(*) FILTER (tipo_divergencia = 'TIPO_1'), count(*) FILTER (tipo_divergencia = 'TIPO_2'), "
        f"count(*) FILTER (tipo_divergencia LIKE 'TIPO_3_%'), count(*) FILTER (severidade = 'HIGH') FROM divergencias WHERE {w}",
    )[0]
    ((taxa,),) = q(out, f"SELECT taxa_divergencia FROM resumo_conciliacao WHERE {w}")
    abertas, valor = q(
        out,
        "SELECT count(*), sum(CASE tipo_divergencia WHEN 'TIPO_1' THEN abs(valor_csv) WHEN 'TIPO_2' THEN abs(valor_base)"
        f" WHEN 'TIPO_3_VALOR' THEN abs(valor_diferenca) ELSE 0 END) FROM pendencias WHERE {w} AND situacao <> 'RESOLVIDA'",
    )[0]
    assert page.kpis == {
        "Divergências": pt(total),
        "Taxa de divergência": pct(taxa),
        "Pendências abertas": pt(abertas),
        "Valor em aberto": reais(valor),
        "TIPO_1 (só no arquivo)": pt(t1),
        "TIPO_2 (só na base)": pt(t2),
        "TIPO_3 (campo difere)": pt(t3),
        "Severidade HIGH": pt(high),
    }
    assert total > 0 and high > 0 and abertas > 0

    t = page.tabelas
    assert t["tabela-por-tipo"] == [
        [tipo, pt(n)]
        for tipo, n in q(
            out,
            f"SELECT tipo_divergencia, count(*) n FROM divergencias WHERE {w} GROUP BY 1 ORDER BY n DESC, 1",
        )
    ]
    assert t["tabela-por-severidade"] == [
        [s, pt(n)]
        for s, n in q(
            out,
            f"SELECT severidade, count(*) FROM divergencias WHERE {w} GROUP BY 1 "
            "ORDER BY CASE severidade WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 ELSE 3 END",
        )
    ]
    assert t["tabela-top-fornecedores"] == [
        [f, pt(n)]
        for f, n in q(
            out,
            f"SELECT fornecedor_id, count(*) n FROM divergencias WHERE {w} GROUP BY 1 ORDER BY n DESC, 1 LIMIT 10",
        )
    ]
    # The trend: one point per published date up to D (at most 30), oldest first.
    trend = q(
        out,
        "SELECT r.data_referencia, (SELECT count(*) FROM divergencias d WHERE d.data_referencia = r.data_referencia), "
        "r.taxa_divergencia, r.linhas_csv, r.linhas_quarentena FROM resumo_conciliacao r "
        f"WHERE r.data_referencia <= DATE '{day}' ORDER BY 1",
    )
    assert len(trend) == index + 1
    assert t["tabela-tendencia"] == [
        [d.isoformat(), pt(n), pct(tx), pt(lc), pt(lq)] for d, n, tx, lc, lq in trend
    ]
    assert page.tabelas["tabela-tendencia"] and f"{len(trend)} data(s) publicada(s) até {day}" in report_file(
        out, day
    ).read_text(encoding="utf-8")
    bands = q(
        out,
        "SELECT faixa_idade, count(*), sum(CASE tipo_divergencia WHEN 'TIPO_1' THEN abs(valor_csv) WHEN 'TIPO_2' "
        "THEN abs(valor_base) WHEN 'TIPO_3_VALOR' THEN abs(valor_diferenca) ELSE 0 END) FROM pendencias "
        f"WHERE {w} AND situacao <> 'RESOLVIDA' GROUP BY 1 ORDER BY 1",
    )
    assert t["tabela-faixas-idade"] == [[f, pt(n), reais(v)] for f, n, v in bands]
    # The first 50 HIGH divergences in the dashboard's table order, names masked.
    rows = q(
        out,
        "SELECT fornecedor_id, ordem_id, nome, tipo_divergencia, detalhes, data, valor_csv, valor_base, valor_diferenca "
        f"FROM divergencias WHERE {w} AND severidade = 'HIGH' ORDER BY {ORDEM} LIMIT 50",
    )
    assert len(rows) == min(50, high)
    assert all(r[3] != "TIPO_3_NOME" for r in rows)  # so `detalhes` holds no name to mask here
    assert t["tabela-high"] == [
        [f, o, mask_nome(n), tipo, det, d.isoformat(), reais(vc), reais(vb), reais(vd)]
        for f, o, n, tipo, det, d, vc, vb, vd in rows
    ]


def test_the_report_is_self_contained_and_never_shows_a_name(published_output):
    out = published_output.output
    for day in published_output.dates:
        html = report_file(out, day).read_text(encoding="utf-8")
        page = parse(html)
        assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
        assert "<script" not in html.lower() and "<link" not in html.lower() and "<img" not in html.lower()
        assert "<style" not in html.lower() and "@import" not in html and "url(" not in html
        assert page.srcs == [] and page.hrefs == []  # RECON_PAINEL_URL unset in the fixture: no link at all
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
        assert html.count("<svg") == 5  # type, severity, suppliers, trend, age bands
        names = {
            n
            for (n,) in q(out, f"SELECT DISTINCT nome FROM divergencias WHERE data_referencia = DATE '{day}'")
        }
        assert names and all(" " in n for n in names)  # generated full names
        assert not [n for n in names if n in html]
        assert "***" in html


def test_the_report_names_its_publication_and_its_manifest_its_bytes(published_output):
    out = published_output.output
    for day in published_output.dates:
        body = report_file(out, day).read_bytes()
        record = json.loads((out / "_manifestos" / f"data_referencia={day}" / "publicacao.json").read_text())
        manifest = json.loads((out / "_manifestos" / f"data_referencia={day}" / "relatorio.json").read_text())
        assert manifest["sha256"] == hashlib.sha256(body).hexdigest() and manifest["bytes"] == len(body)
        assert manifest["job_id"] == manifest["publicacao_job_id"] == record["job_id"]
        assert manifest["arquivo"] == str(report_file(out, day))
        when = datetime.fromisoformat(record["concluida_em"]).astimezone(ZoneInfo("America/Sao_Paulo"))
        assert (
            f"publicada em {when:%d/%m/%Y %H:%M:%S} (horário de Brasília) pelo job {record['job_id']}"
            in body.decode("utf-8")
        )
    assert not list((out / "relatorio").rglob("*.tmp"))


def test_a_rerender_of_the_same_publication_is_byte_identical(published_output, monkeypatch):
    out, day = published_output.output, published_output.dates[-1]
    published = report_file(out, day).read_bytes()
    _, again = render(monkeypatch, published_output, day)
    assert again == published
    # In a fresh process too (vl-convert's SVG does not depend on process state).
    code = (
        "import sys; from reconciliation_assets.assets.report import render_report; "
        "from reconciliation_assets.resources_config import reader_settings; "
        f"s, e = reader_settings(); sys.stdout.buffer.write(render_report(s, e, '{day}', None)[1])"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**published_output.env(), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
        timeout=120,
    )
    assert fresh.stdout == published


def test_with_the_dashboard_url_the_report_links_to_that_date(published_output, monkeypatch):
    day = published_output.dates[1]
    _, body = render(monkeypatch, published_output, day, painel=f"{PAINEL}/?inicio={day}&fim={day}")
    page = parse(body.decode("utf-8"))
    assert page.hrefs == [f"{PAINEL}/?inicio={day}&fim={day}"] and page.srcs == []


def test_without_pendencias_the_age_bands_are_not_available(published_output, monkeypatch, tmp_path):
    copy = tmp_path / "output"
    shutil.copytree(published_output.output, copy, ignore=shutil.ignore_patterns("pendencias"))
    day = published_output.dates[-1]
    relatorio, body = render(monkeypatch, published_output, day, output=copy)
    html = body.decode("utf-8")
    page = parse(html)
    assert relatorio.faixas_idade is None and "tabela-faixas-idade" not in page.tabelas
    assert "Pendências por idade: não disponível" in html and html.count("<svg") == 4
    assert page.kpis["Pendências abertas"] == "-" and page.kpis["Valor em aberto"] == "-"
