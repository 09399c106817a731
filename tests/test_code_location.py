"""The code location loads the way the UI and the daemon load it (workspace.yaml)."""

import subprocess
import sys
from pathlib import Path

import dagster as dg

from reconciliation_assets.definitions import build_defs

ROOT = Path(__file__).resolve().parents[1]


def test_workspace_validates_with_the_dagster_cli(tmp_path):
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        # PYTHONPATH: the checkout this test runs in, not whichever copy is installed in the venv.
        env={
            "PATH": str(dagster.parent),
            "PYTHONPATH": str(ROOT),
            "DAGSTER_HOME": str(tmp_path),
            "HOME": str(tmp_path),
        },
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_assets_carry_the_metadata_the_ui_shows():
    defs = build_defs()
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {
        "arquivos_fornecedor",
        "transacoes_validadas",
        "quarentena",
        "base_interna_snapshot",
        "divergencias",
        "pendencias",
        "resumo_conciliacao",
        "relatorio_diario",
    }
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, key
        assert node.owners == ["team:conciliacao"], key
        assert node.partitions_def is not None, key
        assert any(t.startswith("dagster/kind/") for t in node.tags), key
    spec = graph.get(dg.AssetKey("divergencias"))
    schema = spec.metadata["dagster/column_schema"]
    assert [c.name for c in schema.columns][:5] == ["fornecedor_id", "ordem_id", "nome", "ativo_id", "data"]
    job = defs.resolve_job_def("daily_reconciliation")
    assert job.partitions_def is not None
    # the daily report is part of the job, after the summary
    report = graph.get(dg.AssetKey("relatorio_diario"))
    assert report.parent_keys == {dg.AssetKey("resumo_conciliacao")}
    assert "relatorio_diario" in {n.name for n in job.graph.node_defs}


def test_the_lineage_names_every_step_output_a_step_reads():
    from reconciliation_assets.definitions import defs

    graph = defs.resolve_asset_graph()

    def parents(key: str) -> set[str]:
        return {k.to_user_string() for k in graph.get(dg.AssetKey(key)).parent_keys}

    assert parents("transacoes_validadas") == parents("quarentena") == {"arquivos_fornecedor"}
    assert parents("base_interna_snapshot") == {"transacoes_validadas"}
    assert parents("divergencias") == {
        "arquivos_fornecedor",
        "transacoes_validadas",
        "quarentena",
        "base_interna_snapshot",
    }
    assert parents("pendencias") == {"divergencias", "pendencias"}  # and D-1's pendencias
    assert parents("resumo_conciliacao") == {"divergencias"}
