"""The benchmark harness end to end at 20k rows: the chain and the bare DuckDB peer, one repetition.

No timing is asserted (it depends on the machine); what must hold is that the result files are
written and that both tools find exactly the generator's divergences where they are comparable
(the chain, which quarantines, on every row and every quarantine reason too).
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the benchmark's chain and peers in subprocesses

REPO = Path(__file__).resolve().parents[1]


def test_bench_smoke(tmp_path):
    out = tmp_path / "results"
    cmd = [
        sys.executable, "-m", "bench.run", "--sizes", "20000", "--repeat", "1", "--tools", "chain,duckdb",
        "--out", str(out), "--scratch", str(tmp_path / "scratch"), "--timeout-s", "300",
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    for name in ("results.json", "results.md", "environment.json"):
        assert (out / name).is_file(), name
    if importlib.util.find_spec("matplotlib"):
        assert (out / "benchmark.png").stat().st_size > 0

    results = json.loads((out / "results.json").read_text())
    tools = results["sizes"]["20000"]["tools"]
    assert set(tools) == {"chain", "duckdb"}
    for name, entry in tools.items():
        assert entry["status"] == "ok", (name, entry["runs"])
        assert entry["equal_comparable"], (name, entry["diff_comparable"])
    chain = tools["chain"]
    assert chain["equal_full"], (chain["diff_full_vs_truth"], chain["quarentena"])
    assert chain["runs"][0]["checks"].get("saldo_explicado") is True
    assert set(chain["stages_s"]) >= {"arquivos_fornecedor", "transacoes_validadas", "divergencias"}
    assert "| 20k | project chain (Dagster job) | ok |" in (out / "results.md").read_text()
    assert not (tmp_path / "scratch" / "normal_20000").exists()  # scratch removed without --keep-data


def test_bench_pendencias_smoke(tmp_path):
    """2,000 rows, 100 divergences, 30 days of state: the step's classification is exact."""
    out = tmp_path / "results"
    cmd = [
        sys.executable, "-m", "bench.pendencias", "--rows", "2000", "--days", "30", "--repeat", "1",
        "--out", str(out), "--scratch", str(tmp_path / "scratch"),
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((out / "pendencias.json").read_text())
    assert report["entradas"] == {"linhas_dia": 2000, "divergencias_dia": 100, "estado_anterior": 3000}
    # P's newest day overlaps D on the even ordem_ids: 50 recur, 50 are new, 50 resolve (in scope,
    # no longer diverging), the other 29 days' 2,900 stay open; 3,050 rows in all.
    assert report["ferramentas"]["pendencias"]["saida"] == "3050 50 50 2900 50"
    assert report["ferramentas"]["duckdb_um_comando"]["saida"] == "3050"
    assert (out / "pendencias.md").read_text().startswith("# pendencias: 2,000 linhas no dia")
