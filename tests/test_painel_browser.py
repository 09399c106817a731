"""``recon painel`` as a user meets it: the real server, opened in Debian's headless Chromium.

The server is started with the command the README gives, on a free loopback port, pointed at a
real published output. The browser loads a link with filters, the page must show its KPIs, its
charts drawn, the filtered count; the CSV it downloads must be exactly the filtered rows of a
DuckDB query over the Parquet. A screenshot of the page is kept in the test's temp folder.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import duckdb
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from bench.browser import chromium, metric_values, painel_server, wait_download, wait_painted
from tests.published_output import PublishedOutput

pytestmark = pytest.mark.slow  # Chromium through selenium over the published days

FILTERED = {"inicio": "2024-03-08", "fim": "2024-03-11", "tipo": "TIPO_1,TIPO_3_VALOR", "severidade": "HIGH"}
WHERE = (
    "data_referencia BETWEEN DATE '2024-03-08' AND DATE '2024-03-11' "
    "AND tipo_divergencia IN ('TIPO_1', 'TIPO_3_VALOR') AND severidade = 'HIGH'"
)

ORDEM = "data_referencia DESC, ordem_id, tipo_divergencia"


@pytest.fixture
def painel(published_output: PublishedOutput, tmp_path: Path):
    """``recon painel --port N`` over the published output, as the README starts it."""
    env = {**published_output.env(), "RECON_DUCKDB_TEMP_DIR": str(tmp_path / "tmp")}
    with painel_server(env) as (url, _):
        yield url


@pytest.fixture
def browser(tmp_path: Path):
    with chromium(tmp_path / "downloads") as driver:
        yield driver


def published_rows(out: Path, columns: str) -> list[tuple]:
    con = duckdb.connect()
    glob = f"{out}/divergencias/*/*.parquet"
    return con.execute(
        f"SELECT {columns} FROM read_parquet('{glob}', hive_partitioning = true) WHERE {WHERE} ORDER BY {ORDEM}"
    ).fetchall()


def test_the_dashboard_in_chromium_shows_the_filtered_view_and_downloads_its_rows(
    published_output, painel, browser, tmp_path
):
    out = published_output.output
    total = len(published_rows(out, "ordem_id"))
    assert total > 100
    query = "&".join(f"{k}={v}" for k, v in FILTERED.items())
    started = time.monotonic()
    browser.get(f"{painel}/?{query}")
    wait_painted(browser, charts=5)  # the five charts drawn by Vega in the page (no network)
    first_paint = time.monotonic() - started
    shown = f"{total:,}".replace(",", ".")
    assert metric_values(browser)["Divergências"] == shown
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "tipo: TIPO_1, TIPO_3_VALOR · severidade: HIGH" in body
    assert f"Linhas 1–100 de {shown}" in body
    browser.save_screenshot(str(tmp_path / "painel.png"))
    # Everything the page loaded (scripts, fonts, Vega, data) came from the dashboard itself.
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith((painel, "data:", "blob:")) for url in loaded), loaded

    button = WebDriverWait(browser, 120).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, '[data-testid="stDownloadButton"] button'))
    )
    assert button.text == f"Exportar CSV ({shown} linhas)"
    button.click()
    downloaded = wait_download(browser.downloads)
    assert downloaded.name == "divergencias_2024-03-08_2024-03-11.csv"
    with downloaded.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    cols = ("data_referencia", "fornecedor_id", "ordem_id", "tipo_divergencia", "severidade", "data")
    expected = published_rows(
        out, "data_referencia::VARCHAR, fornecedor_id, ordem_id, tipo_divergencia, severidade, data::VARCHAR"
    )
    assert [tuple(r[c] for c in cols) for r in rows] == expected
    assert len(rows) == total
    print(f"first paint {first_paint:.1f}s, screenshot {tmp_path / 'painel.png'}")  # noqa: T201


def test_the_daily_report_opens_offline_in_chromium_with_only_its_own_content(
    published_output: PublishedOutput, browser, tmp_path: Path
):
    """The report as a reader opens it: a local file, the network cut, nothing else fetched."""
    day = published_output.dates[-1]
    report = published_output.output / "relatorio" / f"data_referencia={day}" / "index.html"
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    browser.get(report.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    sizes = browser.execute_script(
        "return [...document.querySelectorAll('svg')].map(s => s.getBoundingClientRect().width)"
    )
    assert len(sizes) == 5 and min(sizes) > 300  # every chart drawn, none collapsed
    ((total,),) = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{published_output.output}/divergencias/data_referencia={day}/*.parquet')"
    ).fetchall()
    kpis = browser.find_element(By.ID, "kpis").text
    assert f"Divergências\n{total:,}".replace(",", ".") in kpis
    assert browser.title == f"Conciliação fornecedor × base interna — {day}"
    browser.save_screenshot(str(tmp_path / "relatorio.png"))
