"""A real published output of three generated dates, built once per test session.

The dashboard, the daily report, the engine one-liners and the Glue registration are all read-side
features: they are tested over what the job actually publishes, not over hand-made Parquet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from reconciliation_assets.cli import main as recon

DATES = ("2024-03-08", "2024-03-09", "2024-03-11")  # a gap on 03-10: ages count calendar days
ROWS = 3_000


@dataclass(frozen=True)
class PublishedOutput:
    root: Path
    dates: tuple[str, ...]

    @property
    def output(self) -> Path:
        return self.root / "output"

    def env(self) -> dict[str, str]:
        """The variables an operator would set to point a reader (dashboard, CLI) at this output."""
        return {
            "RECON_INGRESS_URI": str(self.root / "ingress"),
            "RECON_OUTPUT_URI": str(self.output),
            "RECON_CHECKPOINT_URI": str(self.root / "checkpoints"),
            "RECON_WORK_DIR": str(self.root / "work"),
            "RECON_DUCKDB_TEMP_DIR": str(self.root / "tmp"),
            "RECON_INTERNAL_DB_URL": f"duckdb:///{self.root / 'base.duckdb'}",
            "RECON_DUCKDB_MEMORY_LIMIT": "512MB",
            "RECON_DUCKDB_THREADS": "1",
        }


def build_output(root: Path, dates: tuple[str, ...] = DATES, rows: int = ROWS) -> PublishedOutput:
    """Generate each date (supplier file + internal rows) and run the daily job on it, in order."""
    from reconciliation_assets.definitions import build_defs

    out = PublishedOutput(root, dates)
    with pytest.MonkeyPatch.context() as mp:
        for k, v in out.env().items():
            mp.setenv(k, v)
        for seed, day in enumerate(dates, start=7):
            argv = ["generate", "--date", day, "--rows", str(rows), "--seed", str(seed), "--quiet"]
            argv += ["--ingress", str(root / "ingress"), "--base", str(root / "base.duckdb")]
            assert recon(argv) == 0
        job = build_defs().resolve_job_def("daily_reconciliation")
        with dg.instance_for_test() as instance:
            for day in dates:
                result = job.execute_in_process(partition_key=day, instance=instance, raise_on_error=False)
                assert result.success, f"{day} did not publish"
    return out


@pytest.fixture(scope="session")
def published_output(tmp_path_factory: pytest.TempPathFactory) -> PublishedOutput:
    return build_output(tmp_path_factory.mktemp("saida_3_datas"))
