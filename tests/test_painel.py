"""The dashboard's numbers, exactly, on a real published output (Streamlit's AppTest, no browser).

Every expected value is an independent DuckDB query over the published Parquet, not the
dashboard's own SQL models.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.ipc
import pytest
from streamlit.testing.v1 import AppTest

from reconciliation_assets.painel.consultas import Saida
from reconciliation_assets.painel.filtros import Filtro, FiltroInvalido
from reconciliation_assets.painel.servidor import APP
from reconciliation_assets.resources_config import reader_settings
from tests.published_output import PublishedOutput

ORDEM = "data_referencia DESC, CASE severidade WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 ELSE 3 END, ordem_id, tipo_divergencia"


def sql(out: Path, query: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute(
        "CREATE VIEW d AS SELECT * FROM read_parquet("
        f"'{out}/divergencias/*/*.parquet', hive_partitioning = true)"
    )
    return con.execute(query).fetchall()


def open_app(monkeypatch, out: PublishedOutput | Path, **params: str) -> AppTest:
    env = out.env() if isinstance(out, PublishedOutput) else {"RECON_OUTPUT_URI": str(out)}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("RECON_DUCKDB_TEMP_DIR", str(Path(env["RECON_OUTPUT_URI"]).parent / "tmp_painel"))
    at = AppTest.from_file(str(APP), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def brl(valor: Decimal) -> str:
    return f"{valor:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def short_reais(valor: Decimal) -> str:
    """The KPI card's amount: exact below a million, else in mi/bi to the cent of the unit."""
    for unit, suffix in ((Decimal(10**9), "bi"), (Decimal(10**6), "mi")):
        if valor >= unit:
            return f"R$ {brl((valor / unit).quantize(Decimal('0.01')))} {suffix}"
    return f"R$ {brl(valor)}"


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart_rows(at: AppTest) -> dict[str, list[dict]]:
    """title -> the rows each Vega-Lite chart was given (decoded from the Arrow payload)."""
    out = {}
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        table = pyarrow.ipc.open_stream(pa.py_buffer(chart.proto.data.data)).read_all()
        out[spec["title"]] = table.to_pylist()
    return out


def text_of(at: AppTest) -> str:
    parts = [
        e.value for kind in ("markdown", "info", "warning", "error", "caption") for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def test_default_view_is_the_latest_date_with_exact_kpis_and_charts(published_output, monkeypatch):
    out, day = published_output.output, published_output.dates[-1]
    at = open_app(monkeypatch, published_output)
    where = f"WHERE data_referencia = DATE '{day}'"
    total, t1, t2, t3, high = sql(
        out,
        "SELECT count(*), count(*) FILTER (tipo_divergencia = 'TIPO_1'), count(*) FILTER (tipo_divergencia = 'TIPO_2'), "
        f"count(*) FILTER (tipo_divergencia LIKE 'TIPO_3_%'), count(*) FILTER (severidade = 'HIGH') FROM d {where}",
    )[0]
    (taxa,) = duckdb.sql(
        f"SELECT taxa_divergencia FROM read_parquet('{out}/resumo_conciliacao/data_referencia={day}/*.parquet')"
    ).fetchall()[0]
    abertas, valor = duckdb.sql(
        "SELECT count(*), sum(CASE tipo_divergencia WHEN 'TIPO_1' THEN abs(valor_csv) WHEN 'TIPO_2' THEN abs(valor_base)"
        " WHEN 'TIPO_3_VALOR' THEN abs(valor_diferenca) ELSE 0 END)"
        f" FROM read_parquet('{out}/pendencias/data_referencia={day}/*.parquet') WHERE situacao <> 'RESOLVIDA'"
    ).fetchall()[0]
    pt = lambda n: f"{n:,}".replace(",", ".")  # noqa: E731
    assert metrics(at) == {
        "Divergências": pt(total),
        "Taxa de divergência": f"{taxa * 100:.2f}".replace(".", ",") + "%",
        "Pendências abertas": pt(abertas),
        "Valor em aberto": short_reais(valor),
        "TIPO_1 (só no arquivo)": pt(t1),
        "TIPO_2 (só na base)": pt(t2),
        "TIPO_3 (campo difere)": pt(t3),
        "Severidade HIGH": pt(high),
    }
    assert total == 298 and abertas > 0  # the fixture really has divergences and open breaks
    help_valor = next(m.help for m in at.metric if m.label == "Valor em aberto")
    assert help_valor.startswith(f"Exato: R$ {brl(valor)}.")
    assert f"**Mostrando:** data {day} · fornecedor: todos · tipo: todos · severidade: todos" in text_of(at)

    charts = chart_rows(at)
    assert {(r["tipo_divergencia"], r["divergencias"]) for r in charts["Divergências por tipo"]} == set(
        sql(out, f"SELECT tipo_divergencia, count(*) FROM d {where} GROUP BY 1")
    )
    assert [(r["severidade"], r["divergencias"]) for r in charts["Divergências por severidade"]] == sql(
        out,
        f"SELECT severidade, count(*) FROM d {where} GROUP BY 1 "
        "ORDER BY CASE severidade WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 ELSE 3 END",
    )
    assert [
        (r["fornecedor_id"], r["divergencias"]) for r in charts["Top 10 fornecedores por divergências"]
    ] == sql(
        out,
        f"SELECT fornecedor_id, count(*) n FROM d {where} GROUP BY 1 ORDER BY n DESC, fornecedor_id LIMIT 10",
    )
    trend = charts["Tendência: últimas 30 datas"]
    assert [r["data_referencia"] for r in trend] == list(published_output.dates)
    assert [r["divergencias"] for r in trend] == [
        sql(out, f"SELECT count(*) FROM d WHERE data_referencia = DATE '{d}'")[0][0]
        for d in published_output.dates
    ]
    bands = duckdb.sql(
        "SELECT faixa_idade, count(*) FROM read_parquet("
        f"'{out}/pendencias/data_referencia={day}/*.parquet') WHERE situacao <> 'RESOLVIDA' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [
        (r["faixa_idade"], r["pendencias"]) for r in charts["Pendências abertas por idade (dias)"]
    ] == bands
    assert len(bands) == 2  # 0-1 (today's new breaks) and 2-7 (carried over the gap day)


def test_filters_in_the_link_give_the_first_page_and_the_export_exactly(published_output, monkeypatch):
    out = published_output.output
    params = {
        "inicio": "2024-03-08",
        "fim": "2024-03-11",
        "tipo": "TIPO_1,TIPO_3_VALOR",
        "severidade": "HIGH,MEDIUM",
    }
    at = open_app(monkeypatch, published_output, **params)
    where = (
        "WHERE data_referencia BETWEEN DATE '2024-03-08' AND DATE '2024-03-11' "
        "AND tipo_divergencia IN ('TIPO_1', 'TIPO_3_VALOR') AND severidade IN ('HIGH', 'MEDIUM')"
    )
    (total,) = sql(out, f"SELECT count(*) FROM d {where}")[0]
    assert total > 100  # more than one page
    assert metrics(at)["Divergências"] == f"{total:,}".replace(",", ".")
    assert (
        "período 2024-03-08 a 2024-03-11 · fornecedor: todos · tipo: TIPO_1, TIPO_3_VALOR · severidade: HIGH, MEDIUM"
        in text_of(at)
    )
    page = at.dataframe[0].value
    expected = sql(
        out,
        f"SELECT data_referencia, ordem_id, tipo_divergencia, severidade FROM d {where} ORDER BY {ORDEM} LIMIT 100",
    )
    got = list(
        zip(
            page["data_referencia"],
            page["ordem_id"],
            page["tipo_divergencia"],
            page["severidade"],
            strict=True,
        )
    )
    assert got == expected
    assert at.download_button[0].label == f"Exportar CSV ({total:,} linhas)".replace(",", ".")

    storage, engine = reader_settings()
    filtro = Filtro.de_parametros(params)
    exported = list(csv.DictReader(io.StringIO(Saida(storage, engine).exportar_csv(filtro).decode("utf-8"))))
    rows = sql(
        out,
        "SELECT data_referencia::VARCHAR, fornecedor_id, ordem_id, tipo_divergencia, severidade, data::VARCHAR,"
        " coalesce(valor_csv::VARCHAR, ''), coalesce(valor_base::VARCHAR, ''), coalesce(valor_diferenca::VARCHAR, '')"
        f" FROM d {where} ORDER BY {ORDEM}",
    )
    cols = (
        "data_referencia",
        "fornecedor_id",
        "ordem_id",
        "tipo_divergencia",
        "severidade",
        "data",
        "valor_csv",
        "valor_base",
        "valor_diferenca",
    )
    assert [tuple(r[c] for c in cols) for r in exported] == rows
    assert len(exported) == total


def test_names_are_masked_in_the_page_and_in_the_export(published_output, monkeypatch):
    out = published_output.output
    at = open_app(monkeypatch, published_output, inicio="2024-03-08", fim="2024-03-11", tipo="TIPO_3_NOME")
    full_names = {
        r[0] for r in sql(out, "SELECT DISTINCT nome FROM d WHERE tipo_divergencia = 'TIPO_3_NOME'")
    }
    assert any(" " in n for n in full_names)
    page = at.dataframe[0].value
    assert set(page["nome"]) == {"***" + n.split()[-1] for n in full_names}
    for detalhe in page["detalhes"]:
        assert detalhe.startswith("campo=nome; nome_csv=***") and "; nome_base=***" in detalhe
    storage, engine = reader_settings()
    text = Saida(storage, engine).exportar_csv(
        Filtro(date(2024, 3, 8), date(2024, 3, 11), tipos=("TIPO_3_NOME",))
    )
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8"))))
    assert len(rows) == len(page) and {r["nome"] for r in rows} == set(page["nome"])
    for row in rows:
        assert re.fullmatch(r"campo=nome; nome_csv=\*\*\*\S*; nome_base=\*\*\*\S*", row["detalhes"]), row
    assert not [n for n in full_names if n in text.decode("utf-8")]
    assert any(";" in n for n in full_names)  # names holding the detalhes separator are masked too


def hostile_output(tmp_path: Path, source: Path) -> Path:
    """One date whose supplier sent formula-looking ids and names (a published day, altered)."""
    out = tmp_path / "output"
    dest = out / "divergencias" / "data_referencia=2024-03-11"
    dest.mkdir(parents=True)
    shutil.copytree(source / "resumo_conciliacao", out / "resumo_conciliacao")
    duckdb.sql(
        "COPY (SELECT * REPLACE ("
        " CASE row_number() OVER () % 4 WHEN 0 THEN '=HYPERLINK(\"http://x\")' WHEN 1 THEN '+1' WHEN 2 THEN '@SUM(A1)'"
        "  ELSE chr(9) || 'x' END || ordem_id AS ordem_id,"
        " '-' || fornecedor_id AS fornecedor_id)"
        f" FROM read_parquet('{source}/divergencias/data_referencia=2024-03-11/*.parquet')) TO '{dest}/part-0.parquet'"
    )
    return out


def test_export_cells_that_look_like_formulas_are_quoted(published_output, tmp_path, monkeypatch):
    out = hostile_output(tmp_path, published_output.output)
    monkeypatch.setenv("RECON_OUTPUT_URI", str(out))
    monkeypatch.setenv("RECON_DUCKDB_TEMP_DIR", str(tmp_path / "tmp"))
    storage, engine = reader_settings()
    saida = Saida(storage, engine)
    assert saida.disponiveis == {"divergencias", "resumo_conciliacao"}
    rows = list(
        csv.DictReader(io.StringIO(saida.exportar_csv(Filtro(date(2024, 3, 11), date(2024, 3, 11))).decode()))
    )
    assert len(rows) == 298
    assert {r["ordem_id"][:2] for r in rows} == {"'=", "'+", "'@", "'\t"}
    assert all(r["fornecedor_id"].startswith("'-F") for r in rows)
    negative = [v for r in rows for v in (r["valor_csv"], r["valor_base"]) if v.startswith("-")]
    assert negative, "numbers are not string cells: a negative difference stays a number"
    at = open_app(monkeypatch, out)
    assert "Pendências por idade: não disponível" in text_of(at)
    assert metrics(at)["Pendências abertas"] == "-"


def test_empty_output_folder_says_so(tmp_path, monkeypatch):
    (tmp_path / "output").mkdir()
    at = open_app(monkeypatch, tmp_path / "output")
    assert f"Nenhuma data publicada em `{tmp_path / 'output'}` ainda." in text_of(at)
    assert not at.metric


def test_a_period_with_no_data_and_a_bad_link_are_explained(published_output, monkeypatch):
    at = open_app(monkeypatch, published_output, inicio="2024-03-10", fim="2024-03-10")
    assert (
        "Nenhuma data publicada no período 2024-03-10 a 2024-03-10. Datas publicadas: de 2024-03-08 a 2024-03-11 (3 datas)."
        in text_of(at)
    )
    assert not at.metric
    at = open_app(monkeypatch, published_output, tipo="TIPO_9", fim="2024-03-09")
    assert "Filtro inválido na URL: tipo desconhecido: TIPO_9" in text_of(at)
    assert "**Mostrando:** data 2024-03-11" in text_of(at)  # the default view, not a stack trace


def test_filter_parsing_rejects_what_it_cannot_use():
    assert Filtro.de_parametros({"fornecedor": ["F01,F02", "F01"], "severidade": "high"}) == Filtro(
        fornecedores=("F01", "F02"), severidades=("HIGH",)
    )
    with pytest.raises(FiltroInvalido, match="inicio='2024-13-01' não é uma data"):
        Filtro.de_parametros({"inicio": "2024-13-01"})
    with pytest.raises(FiltroInvalido, match="é depois de fim"):
        Filtro.de_parametros({"inicio": "2024-03-11", "fim": "2024-03-08"})
    f = Filtro(date(2024, 3, 8), date(2024, 3, 9), ("F01",), ("TIPO_1",), ())
    assert f.parametros() == {
        "inicio": "2024-03-08",
        "fim": "2024-03-09",
        "fornecedor": "F01",
        "tipo": "TIPO_1",
    }
    assert Filtro.de_parametros(f.parametros()) == f


def test_the_trend_is_the_last_30_published_dates(tmp_path, monkeypatch):
    out = tmp_path / "output"
    first = date(2024, 1, 1)
    for i in range(35):
        d = first + timedelta(days=i * 2 if i < 5 else i + 5)  # irregular gaps: 30 points, not 30 days
        folder = out / "resumo_conciliacao" / f"data_referencia={d}"
        folder.mkdir(parents=True)
        duckdb.sql(
            f"COPY (SELECT {i} AS tipo_1, 0 AS tipo_2, 0 AS tipo_3_valor, 0 AS tipo_3_data, 0 AS tipo_3_fornecedor,"
            f" 0 AS tipo_3_ativo, 0 AS tipo_3_nome, 0.5 AS taxa_divergencia, 10 AS linhas_csv, 0 AS linhas_quarentena)"
            f" TO '{folder}/part-0.parquet'"
        )
    monkeypatch.setenv("RECON_OUTPUT_URI", str(out))
    monkeypatch.setenv("RECON_DUCKDB_TEMP_DIR", str(tmp_path / "tmp"))
    saida = Saida(*reader_settings())
    datas = saida.datas_publicadas()
    trend = saida.tendencia(datas[-1])
    assert [r["data_referencia"] for r in trend] == datas[-30:]
    assert [r["divergencias"] for r in trend] == list(range(5, 35))
    assert [r["data_referencia"] for r in saida.tendencia(datas[10])] == datas[:11]


def test_a_failed_run_shows_the_last_good_publication_and_says_so(published_output, tmp_path, monkeypatch):
    """Real failed runs: 2024-03-11 re-run without its internal scope (gated), 2024-03-12 without a file."""
    root = tmp_path / "copia"
    shutil.copytree(published_output.root, root)
    copy = PublishedOutput(root, published_output.dates)
    for k, v in copy.env().items():
        monkeypatch.setenv(k, v)
    (root / "ingress" / "2024-03-12").mkdir()
    from reconciliation_assets.definitions import build_defs

    job = build_defs().resolve_job_def("daily_reconciliation")
    with dg.instance_for_test() as instance:
        assert not job.execute_in_process(
            partition_key="2024-03-12", instance=instance, raise_on_error=False
        ).success
    before = json.loads((root / "output/_manifestos/data_referencia=2024-03-11/publicacao.json").read_text())
    con = duckdb.connect(str(root / "base.duckdb"))
    con.execute("DELETE FROM transacoes_internas WHERE data >= DATE '2024-03-01'")
    con.close()
    with dg.instance_for_test() as instance:
        gated = job.execute_in_process(partition_key="2024-03-11", instance=instance, raise_on_error=False)
    assert not gated.success
    run = json.loads((root / "checkpoints/por_data/data_referencia=2024-03-11/execucao.json").read_text())
    assert not (root / "output/_manifestos/data_referencia=2024-03-11/execucao.json").exists()
    assert run["status"] == "GATED" and run["job_id"] == gated.run_id

    at = open_app(monkeypatch, copy)
    shown = text_of(at)
    assert (
        f"A última execução de 2024-03-11 (job {gated.run_id}) falhou (GATED na etapa divergencias: "
    ) in shown
    assert (
        f"Mostrando a última publicação válida: job {before['job_id']}, publicada em {before['concluida_em']}."
        in shown
    )
    assert (
        "A execução de 2024-03-12 (job " in shown
        and "e a data não tem publicação. Os números abaixo são da última data publicada, 2024-03-11."
        in shown
    )
    assert metrics(at)["Divergências"] == "298"  # the good publication's numbers

    at = open_app(monkeypatch, copy, inicio="2024-03-12", fim="2024-03-12")
    assert "Mostrando a última data publicada com sucesso: 2024-03-11." in text_of(at)
    assert "**Mostrando:** data 2024-03-11" in text_of(at)


def test_sql_masking_is_the_masking_of_the_logs():
    from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner
    from reconciliation_assets.observability import mask_nome

    names = [
        "José da Silva",
        "  Ana   Lima ",
        "",
        None,
        "Ana",
        "Souza; Filho",
        "Maria\tAntônia",
        'Ana "Aninha" Lima',
    ]
    with ModelRunner(EngineSettings(temp_dir="/tmp/recon_mask_test")) as runner:
        got = [runner.query("SELECT mascara_nome($n)", {"n": n})[0][0] for n in names]
    assert got == [mask_nome(n) for n in names]


def test_with_oidc_login_nothing_is_shown_until_the_user_logged_in(published_output, monkeypatch):
    monkeypatch.setenv("RECON_PAINEL_LOGIN", "oidc")
    for k, v in published_output.env().items():
        monkeypatch.setenv(k, v)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == ["Este painel exige login com a conta da empresa."]
    assert [b.label for b in at.button] == ["Entrar"]
    assert not at.metric and not at.dataframe  # no figure, no row before the login

    at.user = {"is_logged_in": True, "email": "analista@empresa.com.br"}
    at.run()
    assert not at.exception, at.exception
    expected = sql(
        published_output.output,
        f"SELECT count(*) FROM d WHERE data_referencia = DATE '{published_output.dates[-1]}'",
    )
    assert metrics(at)["Divergências"] == f"{expected[0][0]:,}".replace(",", ".")
    assert "Conectado como analista@empresa.com.br" in [c.value for c in at.sidebar.caption]


def test_oidc_login_without_its_secrets_refuses_to_start(tmp_path, monkeypatch):
    from reconciliation_assets.painel.servidor import login_problem

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert login_problem("nenhum", "") is None
    problem = login_problem("oidc", "")
    assert problem is not None and problem.startswith("RECON_PAINEL_LOGIN=oidc precisa")
    # With Authlib present, it is the secrets file that decides.
    from streamlit import config

    from reconciliation_assets.painel import servidor

    secrets = tmp_path / "secrets.toml"
    monkeypatch.setattr(servidor.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(config, "get_option", lambda name: [str(secrets)])
    assert "precisa de [auth] com client_id" in login_problem("oidc", "")
    provider = 'client_id = "c"\nclient_secret = "s"\nserver_metadata_url = "https://idp/.well-known/openid-configuration"\n'
    secrets.write_text(
        '[auth]\nredirect_uri = "https://painel/oauth2callback"\ncookie_secret = "x"\n' + provider
    )
    assert login_problem("oidc", "") is None
    assert "precisa de [auth.microsoft]" in login_problem("oidc", "microsoft")
    secrets.write_text(
        '[auth]\nredirect_uri = "https://painel/oauth2callback"\ncookie_secret = "x"\n[auth.microsoft]\n'
        + provider
    )
    assert login_problem("oidc", "microsoft") is None
    monkeypatch.undo()

    monkeypatch.setenv("RECON_PAINEL_LOGIN", "sim")
    monkeypatch.setenv("RECON_OUTPUT_URI", str(tmp_path / "saida"))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("recon")), "painel", "--port", "1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "RECON_PAINEL_LOGIN='sim': login inválido" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_amounts_read_as_the_business_writes_them():
    from reconciliation_assets.painel.formato import reais, reais_curto

    assert reais(Decimal("-810.84")) == "-R$ 810,84"
    assert reais(Decimal("1234567.5")) == "R$ 1.234.567,50"
    assert reais(Decimal("0.005")) == "R$ 0,00"  # half-even, like the money everywhere else
    assert reais(Decimal("0.015")) == "R$ 0,02"
    assert reais_curto(Decimal("999999.99")) == "R$ 999.999,99"
    assert reais_curto(Decimal("14482887.28")) == "R$ 14,48 mi"
    assert reais_curto(Decimal("-2407714478.12")) == "-R$ 2,41 bi"
    assert reais(None) == reais_curto(None) == "-"


def test_an_s3_output_shows_the_same_figures_rows_and_export_as_the_local_folder(
    published_output, tmp_path, monkeypatch, s3_bucket
):
    """Local outputs are read by DuckDB's reader, s3:// ones as Arrow datasets: same numbers either way."""
    from tests.servers import s3_client

    client = s3_client(os.environ["AWS_ENDPOINT_URL"])
    for path in published_output.output.rglob("*"):
        if path.is_file():
            client.upload_file(
                str(path), s3_bucket, f"saida/{path.relative_to(published_output.output).as_posix()}"
            )
    monkeypatch.setenv("RECON_DUCKDB_TEMP_DIR", str(tmp_path / "tmp"))
    readers = {}
    for name, uri in (("local", str(published_output.output)), ("s3", f"s3://{s3_bucket}/saida")):
        monkeypatch.setenv("RECON_OUTPUT_URI", uri)
        readers[name] = Saida(*reader_settings())
    first, last = (date.fromisoformat(d) for d in (published_output.dates[0], published_output.dates[-1]))
    filtro = Filtro(first, last, severidades=("HIGH", "MEDIUM"))
    local, s3 = readers["local"], readers["s3"]
    assert s3.disponiveis == local.disponiveis == {"divergencias", "resumo_conciliacao", "pendencias"}
    assert s3.datas_publicadas() == local.datas_publicadas() == [first, date(2024, 3, 9), last]
    assert s3.kpis(filtro) == local.kpis(filtro) and local.kpis(filtro)["total"] > 100
    for view in ("por_tipo", "por_severidade", "top_fornecedores", "pendencias_abertas"):
        assert getattr(s3, view)(filtro) == getattr(local, view)(filtro), view
    assert s3.tendencia(last) == local.tendencia(last)
    assert s3.pagina(filtro, 2).to_pylist() == local.pagina(filtro, 2).to_pylist()
    assert s3.exportar_csv(filtro) == local.exportar_csv(filtro)
