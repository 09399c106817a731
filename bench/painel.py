"""What the business waits for: the dashboard over a 30-date output of 1M-row days.

    .venv/bin/python -m bench.painel [--rows 1000000] [--dates 30] [--repeat 3]
        [--scratch /tmp/recon-bench-painel] [--out bench/results]

One date is generated (``recon generate``) and reconciled by the real ``daily_reconciliation`` job;
its published partitions (all four tables) are then copied to the ``--dates - 1`` dates before it,
so the output holds ``--dates`` dates of a real 1M-row day (the copy is outside every timed region).
Then ``recon painel`` is started as a user starts it and Debian's headless Chromium opens it
``--repeat`` times (a new browser session each time) and measures, from navigation to what a
person sees:

- first paint of the default view (the latest date): KPIs shown and the five charts drawn;
- first paint of the whole period (30 dates);
- paging the table (next page until the caption says rows 101–200), on both views;
- the server's resident memory (RSS of the ``recon painel`` process tree, sampled every 100 ms
  through the whole session: peak and at the end).

Results: ``<out>/painel.json``, ``painel.md`` and a screenshot ``painel.png`` of the default view.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import psutil

from bench.browser import chromium, painel_server, wait_painted

REPO = Path(__file__).resolve().parents[1]
TABLES = ("divergencias", "resumo_conciliacao", "quarentena", "pendencias")


def env_for(root: Path) -> dict[str, str]:
    return {
        "RECON_INGRESS_URI": str(root / "ingress"),
        "RECON_OUTPUT_URI": str(root / "output"),
        "RECON_CHECKPOINT_URI": str(root / "checkpoints"),
        "RECON_WORK_DIR": str(root / "work"),
        "RECON_DUCKDB_TEMP_DIR": str(root / "tmp"),
        "RECON_INTERNAL_DB_URL": f"duckdb:///{root / 'base.duckdb'}",
    }


def build_output(root: Path, day: date, rows: int, dates: int) -> None:
    """One real day through the job, its publication copied to the dates before it."""
    import os
    import subprocess
    import sys

    env = {**os.environ, **env_for(root)}
    recon = str(Path(sys.executable).with_name("recon"))
    subprocess.run(
        [recon, "generate", "--date", day.isoformat(), "--rows", str(rows), "--quiet"]
        + ["--ingress", str(root / "ingress"), "--base", str(root / "base.duckdb")],
        env=env,
        check=True,
    )
    dagster = str(Path(sys.executable).with_name("dagster"))
    (root / "dagster_home").mkdir(exist_ok=True)
    subprocess.run(
        [dagster, "job", "execute", "-m", "reconciliation_assets.definitions", "-j", "daily_reconciliation"]
        + ["--tags", json.dumps({"dagster/partition": day.isoformat()})],
        env={**env, "DAGSTER_HOME": str(root / "dagster_home")},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=root,
    )
    out = root / "output"
    for back in range(1, dates):
        other = (day - timedelta(days=back)).isoformat()
        for table in TABLES:
            src = out / table / f"data_referencia={day.isoformat()}"
            shutil.copytree(src, out / table / f"data_referencia={other}", dirs_exist_ok=True)


class RssSampler:
    """Peak RSS of a process and its children, sampled on a thread."""

    def __init__(self, pid: int, every_s: float = 0.1):
        self.proc = psutil.Process(pid)
        self.every_s = every_s
        self.peak = 0
        self.last = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.last = self._rss()
            self.peak = max(self.peak, self.last)
            time.sleep(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def one_session(
    url: str, first: date, last: date, scratch: Path, screenshot: Path | None
) -> dict[str, float]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(scratch / "downloads") as driver:
        t0 = time.monotonic()
        driver.get(url)
        wait_painted(driver)
        default_view = time.monotonic() - t0
        if screenshot is not None:
            driver.save_screenshot(str(screenshot))
        body = driver.find_element(By.TAG_NAME, "body").text
        total = next(line for line in body.splitlines() if line.startswith("Linhas 1–100 de "))

        paging = next_page(driver)

        t0 = time.monotonic()
        driver.get(f"{url}/?inicio={first}&fim={last}")
        WebDriverWait(driver, 300).until(
            lambda d: f"período {first} a {last}" in d.find_element(By.TAG_NAME, "body").text
        )
        wait_painted(driver)
        period_view = time.monotonic() - t0
        period_paging = next_page(driver)
    return {
        "primeira_pintura_s": default_view,
        "paginar_s": paging,
        "periodo_30_datas_s": period_view,
        "paginar_periodo_s": period_paging,
        "linhas_tabela": total,
    }


def next_page(driver) -> float:
    """Seconds from the click on the page number's "+" until rows 101-200 are announced."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    t0 = time.monotonic()
    driver.find_element(By.CSS_SELECTOR, '[data-testid="stNumberInputStepUp"]').click()
    WebDriverWait(driver, 180).until(
        lambda d: "Linhas 101–200 de " in d.find_element(By.TAG_NAME, "body").text
    )
    return time.monotonic() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dates", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/recon-bench-painel"))
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--reuse", action="store_true", help="keep an output already built in --scratch")
    args = parser.parse_args(argv)

    last = date(2024, 6, 30)
    first = last - timedelta(days=args.dates - 1)
    root = args.scratch
    if not (args.reuse and (root / "output" / "resumo_conciliacao").exists()):
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        t0 = time.monotonic()
        build_output(root, last, args.rows, args.dates)
        print(f"output built in {time.monotonic() - t0:.0f}s")
    output_bytes = sum(p.stat().st_size for p in (root / "output").rglob("*.parquet"))

    args.out.mkdir(parents=True, exist_ok=True)
    sessions = []
    with painel_server(env_for(root)) as (url, server), RssSampler(server.pid) as rss:
        idle = rss._rss()
        for i in range(args.repeat):
            shot = args.out / "painel.png" if i == 0 else None
            sessions.append(one_session(url, first, last, root, shot))
            print(sessions[-1])
        rss_end = rss._rss()
    result = {
        "linhas_por_data": args.rows,
        "datas": args.dates,
        "parquet_mib": round(output_bytes / 2**20, 1),
        "linhas_tabela_padrao": sessions[0]["linhas_tabela"],
        "sessoes": sessions,
        "mediana": {
            k: round(statistics.median(s[k] for s in sessions), 2)
            for k in ("primeira_pintura_s", "paginar_s", "periodo_30_datas_s", "paginar_periodo_s")
        },
        "rss_servidor_mib": {
            "ocioso": round(idle / 2**20),
            "pico": round(rss.peak / 2**20),
            "fim": round(rss_end / 2**20),
        },
    }
    (args.out / "painel.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    m, r = result["mediana"], result["rss_servidor_mib"]
    (args.out / "painel.md").write_text(
        f"# Dashboard over {args.dates} dates × {args.rows:,} rows a day ({result['parquet_mib']} MiB of Parquet)\n\n"
        f"Median of {args.repeat} browser sessions (headless Chromium, a new session each), `recon painel` "
        "as a user starts it, this 2-core machine.\n\n"
        "| what a person waits for | seconds |\n|---|---|\n"
        f"| default view (latest date, {result['linhas_tabela_padrao']}): KPIs + 5 charts drawn | {m['primeira_pintura_s']} |\n"
        f"| next page of the table (rows 101–200 shown) | {m['paginar_s']} |\n"
        f"| whole period ({args.dates} dates): KPIs + 5 charts drawn | {m['periodo_30_datas_s']} |\n"
        f"| next page of the whole period's table | {m['paginar_periodo_s']} |\n\n"
        f"Server RSS (process tree): idle {r['ocioso']} MiB, peak {r['pico']} MiB, after the sessions {r['fim']} MiB.\n"
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
