"""The README's main command, as a newcomer runs it: ``recon demo`` in an empty folder, no configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

DAY = "2024-03-10"


@pytest.mark.slow  # a whole Dagster run in a fresh process
def test_recon_demo_runs_a_day_with_no_configuration_and_publishes_the_truth(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "DAGSTER_"))}
    recon = Path(sys.executable).with_name("recon")
    done = subprocess.run(
        [str(recon), "demo", "--rows", "3000", "--date", DAY, "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "3/3 pronto em" in out and "diferenca_nao_explicada      0.00" in out
    # An old date run by hand is not measured against its deadline: nothing to warn about.
    assert "atenção: checagem" not in out
    # The Great Expectations audit of the publication ran after it, in its own run.
    assert "auditoria Great Expectations (run " in out
    assert "33 de 33 expectativas atendidas na amostra (Great Expectations)" in out
    assert "PreviewWarning" not in done.stderr
    truth = json.loads((tmp_path / "recon_data" / f"ground_truth_{DAY}.json").read_text())
    published = (
        tmp_path / "recon_data" / "output" / "divergencias" / f"data_referencia={DAY}" / "part-0.parquet"
    )
    got = dict(
        duckdb.sql(
            f"SELECT tipo_divergencia, count(*) FROM read_parquet('{published}') GROUP BY 1"
        ).fetchall()
    )
    assert got == {k: v for k, v in truth["divergencias"].items() if v}
    # The Dagster instance is the folder's own (DAGSTER_HOME defaults to it): the run is recorded there.
    assert (tmp_path / "storage").is_dir() and any((tmp_path / "history" / "runs").iterdir())
