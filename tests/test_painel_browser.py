"""``recon painel`` as a user meets it: the real server, opened in Debian's headless Chromium.

The server is started with the command the README gives, on a free loopback port, pointed at a
real published output. The browser loads a link with filters, the page must show its KPIs, its
charts drawn, the filtered count; the CSV it downloads must be exactly the filtered rows of a
DuckDB query over the Parquet. A screenshot of the page is kept in the test's temp folder.
"""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.published_output import PublishedOutput

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FILTERED = {"inicio": "2024-03-08", "fim": "2024-03-11", "tipo": "TIPO_1,TIPO_3_VALOR", "severidade": "HIGH"}
WHERE = (
    "data_referencia BETWEEN DATE '2024-03-08' AND DATE '2024-03-11' "
    "AND tipo_divergencia IN ('TIPO_1', 'TIPO_3_VALOR') AND severidade = 'HIGH'"
)
ORDEM = "data_referencia DESC, ordem_id, tipo_divergencia"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, server: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"recon painel exited with {server.returncode}: {server.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"recon painel did not answer {url} in {timeout}s")


@pytest.fixture
def painel(published_output: PublishedOutput, tmp_path: Path):
    """``recon painel --port N`` over the published output, as the README starts it."""
    port = free_port()
    env = {**os.environ, **published_output.env(), "RECON_DUCKDB_TEMP_DIR": str(tmp_path / "tmp")}
    recon = Path(sys.executable).with_name("recon")
    server = subprocess.Popen(
        [str(recon), "painel", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/_stcore/health", server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def browser(tmp_path: Path):
    for binary in (CHROMIUM, CHROMEDRIVER):
        assert Path(binary).exists(), (
            f"{binary} missing: install Debian's chromium and chromium-driver (.ci/run does it)"
        )
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1600,2400",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def published_rows(out: Path, columns: str) -> list[tuple]:
    con = duckdb.connect()
    glob = f"{out}/divergencias/*/*.parquet"
    return con.execute(
        f"SELECT {columns} FROM read_parquet('{glob}', hive_partitioning = true) WHERE {WHERE} ORDER BY {ORDEM}"
    ).fetchall()


def metric_values(driver) -> dict[str, str]:
    out = {}
    for metric in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
        label = metric.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text.strip()
        out[label] = metric.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text.strip()
    return out


def wait_download(folder: Path, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == ".csv"]
        if done and not any(p.suffix == ".crdownload" for p in folder.iterdir()):
            return done[0]
        time.sleep(0.3)
    raise AssertionError(f"no CSV downloaded into {folder}: {list(folder.iterdir())}")


def test_the_dashboard_in_chromium_shows_the_filtered_view_and_downloads_its_rows(
    published_output, painel, browser, tmp_path
):
    out = published_output.output
    total = len(published_rows(out, "ordem_id"))
    assert total > 100
    query = "&".join(f"{k}={v}" for k, v in FILTERED.items())
    started = time.monotonic()
    browser.get(f"{painel}/?{query}")
    wait = WebDriverWait(browser, 120)
    wait.until(lambda d: metric_values(d).get("Divergências") not in (None, ""))
    first_paint = time.monotonic() - started
    # Charts are drawn by Vega in the page (no network): five of them, each with a canvas or an svg.
    wait.until(
        lambda d: (
            len(
                d.find_elements(
                    By.CSS_SELECTOR,
                    '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks',
                )
            )
            >= 5
        )
    )
    shown = f"{total:,}".replace(",", ".")
    assert metric_values(browser)["Divergências"] == shown
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "tipo: TIPO_1, TIPO_3_VALOR · severidade: HIGH" in body
    assert f"Linhas 1–100 de {shown}" in body
    browser.save_screenshot(str(tmp_path / "painel.png"))

    button = wait.until(
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
