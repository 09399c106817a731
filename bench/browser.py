"""Debian's headless Chromium driven by Selenium, and ``recon painel`` started as a user starts it.

Shared by the dashboard's browser test and its benchmark, so both measure the same thing: the
real server, the real page, no network (Chromium's background services are switched off, as this
machine's closed network would otherwise refuse them many times a second).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"recon painel exited with {server.returncode}: {server.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"recon painel did not answer {url} in {timeout}s")


@contextmanager
def painel_server(env: dict[str, str], timeout: float = 90) -> Iterator[tuple[str, subprocess.Popen]]:
    """``recon painel --host 127.0.0.1 --port N`` with ``env``; yields its URL and process."""
    port = free_port()
    recon = Path(sys.executable).with_name("recon")
    server = subprocess.Popen(
        [str(recon), "painel", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_http(f"{url}/_stcore/health", server, timeout)
        yield url, server
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def chromium(downloads: Path, width: int = 1600, height: int = 2400) -> Iterator[object]:
    """A headless Chromium that saves downloads into ``downloads`` (``driver.downloads``)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():
            raise RuntimeError(
                f"{binary} missing: install Debian's chromium and chromium-driver (.ci/run does it)"
            )
    downloads.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--window-size={width},{height}",
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


def metric_values(driver) -> dict[str, str]:
    """The page's KPI cards, label → shown value."""
    from selenium.webdriver.common.by import By

    out = {}
    for metric in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
        label = metric.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text.strip()
        out[label] = metric.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text.strip()
    return out


CHART_SELECTOR = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks'


def drawn_charts(driver) -> int:
    from selenium.webdriver.common.by import By

    return len(driver.find_elements(By.CSS_SELECTOR, CHART_SELECTOR))


def wait_painted(driver, charts: int = 5, timeout: float = 180) -> None:
    """Until the KPIs have values and ``charts`` charts are drawn (Vega, in the page)."""
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout)
    wait.until(lambda d: metric_values(d).get("Divergências") not in (None, ""))
    wait.until(lambda d: drawn_charts(d) >= charts)


def wait_download(folder: Path, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == ".csv"]
        if done and not any(p.suffix == ".crdownload" for p in folder.iterdir()):
            return done[0]
        time.sleep(0.3)
    raise RuntimeError(f"no CSV downloaded into {folder}: {list(folder.iterdir())}")
