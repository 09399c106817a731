"""The whole chain through Dagster on the embedded default, checked against the generator's truth."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest

from reconciliation_assets.definitions import build_defs
from reconciliation_assets.generator import Scenario, generate
from tests.chain import HEADER, make_base

DAY = "2024-03-10"


@pytest.fixture
def env(recon_env):
    """Every location in a temporary folder, set through the environment (tests/receivers.py)."""
    return recon_env


def run(day: str = DAY):
    with dg.instance_for_test() as instance:
        return (
            build_defs()
            .resolve_job_def("daily_reconciliation")
            .execute_in_process(partition_key=day, instance=instance, raise_on_error=False)
        )


def table(root: Path, name: str, sql: str) -> list[tuple]:
    return duckdb.sql(
        sql.replace("{t}", f"read_parquet('{root}/output/{name}/*/*.parquet', hive_partitioning=true)")
    ).fetchall()


def test_generated_day_matches_ground_truth_exactly(env):
    truth = generate(
        Scenario(rows=6_000, data_referencia=date(2024, 3, 10), chunk_rows=2_500),
        env / "ingress",
        env / "base.duckdb",
    )
    result = run()
    assert result.success
    by_type = dict(table(env, "divergencias", "SELECT tipo_divergencia, count(*) FROM {t} GROUP BY 1"))
    assert by_type == {k: v for k, v in truth.divergencias.items() if v}
    severities = dict(
        table(
            env,
            "divergencias",
            "SELECT severidade, count(*) FROM {t} WHERE tipo_divergencia = 'TIPO_3_VALOR' GROUP BY 1",
        )
    )
    assert severities == truth.severidade_tipo_3_valor
    reasons = dict(table(env, "quarentena", "SELECT motivo, count(*) FROM {t} GROUP BY 1"))
    assert reasons == truth.quarentena
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{env}/output/resumo_conciliacao/*/*.parquet')")
    resumo = SimpleNamespace(**dict(zip(rel.columns, rel.fetchall()[0], strict=True)))
    assert (resumo.linhas_csv, resumo.linhas_validas, resumo.linhas_quarentena, resumo.linhas_em_branco) == (
        truth.linhas_csv,
        truth.linhas_validas,
        truth.linhas_quarentena,
        truth.linhas_em_branco,
    )
    assert resumo.linhas_base_escopo == truth.linhas_base_escopo
    assert resumo.conciliadas_sem_divergencia == truth.conciliadas_sem_divergencia
    assert str(resumo.diferenca_nao_explicada) == "0.00"
    assert resumo.job_id == result.run_id
    # The partition's materialisations carry the counts the UI plots.
    mats = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert mats["divergencias"]["tipo_1"].value == truth.divergencias["TIPO_1"]
    assert mats["quarentena"]["motivo_duplicate_ordem_id"].value == truth.quarentena["DUPLICATE_ORDEM_ID"]
    assert mats["divergencias"]["dagster/uri"].value == str(
        env / "output" / "divergencias" / f"data_referencia={DAY}" / "part-0.parquet"
    )


def test_rerunning_a_date_replaces_it_with_the_same_rows(env):
    generate(Scenario(rows=1_500, data_referencia=date(2024, 3, 10)), env / "ingress", env / "base.duckdb")
    cols = "fornecedor_id, ordem_id, nome, ativo_id, data, data_base, valor_csv, valor_base, valor_diferenca, tipo_divergencia, detalhes, severidade, hash_linha"
    first = run()
    rows1 = table(env, "divergencias", f"SELECT {cols} FROM {{t}} ORDER BY ALL")
    second = run()
    rows2 = table(env, "divergencias", f"SELECT {cols} FROM {{t}} ORDER BY ALL")
    assert first.success and second.success and first.run_id != second.run_id
    assert rows1 == rows2 and len(rows1) > 0
    assert table(env, "divergencias", "SELECT DISTINCT job_id FROM {t}") == [(second.run_id,)]
    partition = env / "output" / "divergencias" / f"data_referencia={DAY}"
    assert sorted(p.name for p in partition.iterdir()) == [
        "part-0.parquet"
    ]  # only Parquet: any engine reads it
    manifests = env / "output" / "_manifestos" / f"data_referencia={DAY}"
    assert sorted(p.name for p in manifests.iterdir()) == [
        "cadeia.json",
        "divergencias.json",
        "pendencias.json",
        "publicacao.json",
        "quarentena.json",
        "relatorio.json",
        "resumo_conciliacao.json",
    ]
    manifest = json.loads((manifests / "divergencias.json").read_text())
    assert (manifest["linhas"], manifest["job_id"]) == (len(rows2), second.run_id)
    record = json.loads((manifests / "publicacao.json").read_text())
    assert record["job_id"] == second.run_id and record["estado"] == "publicada"
    assert [t["tabela"] for t in record["tabelas"]] == [
        "quarentena",
        "divergencias",
        "pendencias",
        "resumo_conciliacao",
    ]
    for t in ("quarentena", "pendencias", "resumo_conciliacao", "relatorio"):
        assert json.loads((manifests / f"{t}.json").read_text())["job_id"] == second.run_id
    # the daily report, rendered after the publication from what it published
    report = env / "output" / "relatorio" / f"data_referencia={DAY}"
    assert sorted(p.name for p in report.iterdir()) == ["index.html"]
    assert json.loads((manifests / "relatorio.json").read_text())["publicacao_job_id"] == second.run_id
    assert not (env / "output" / "_staging").exists() or not any((env / "output" / "_staging").iterdir())


def test_missing_column_fails_the_run_and_publishes_nothing(env):
    day_dir = env / "ingress" / DAY
    day_dir.mkdir(parents=True)
    (day_dir / "a.csv").write_text(HEADER + "\nF1;O1;Ana;A1;2024-03-09;1\n")
    (day_dir / "b.csv").write_text("fornecedor_id;ordem_id;nome;data;valor\nF1;O2;Ana;2024-03-09;1\n")
    make_base(env / "base.duckdb", [])
    result = run()
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "b.csv" in failure.event_specific_data.error.message
    assert "ativo_id" in failure.event_specific_data.error.message
    assert not (env / "output").exists()


def test_duplicate_internal_ids_block_publication(env):
    day_dir = env / "ingress" / DAY
    day_dir.mkdir(parents=True)
    (day_dir / "a.csv").write_text(HEADER + "\nF1;O1;Ana;A1;2024-03-09;1\n")
    make_base(
        env / "base.duckdb",
        [("F1", "O1", "Ana", "A1", date(2024, 3, 9), 1), ("F1", " O1", "Ana", "A1", date(2024, 3, 9), 1)],
    )
    result = run()
    assert not result.success
    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    failed = [ev.check_name for ev in evaluations if not ev.passed]
    assert failed == ["ordem_id_unico_base"]
    assert not (env / "output" / "divergencias").exists()
    assert not (env / "output" / "resumo_conciliacao").exists()


def test_no_file_for_the_date_is_a_clear_failure(env):
    make_base(env / "base.duckdb", [])
    result = run()
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"Nenhum arquivo *.csv para {DAY}" in failure.event_specific_data.error.message


def test_spec_cli_command_runs_a_day(env):
    """The SPEC's own command line, with only the SPEC's environment variables."""
    generate(Scenario(rows=1_000, data_referencia=date(2024, 3, 10)), env / "ingress", env / "base.duckdb")
    cmd = [
        str(Path(sys.executable).with_name("dagster")),
        "job",
        "execute",
        "-m",
        "reconciliation_assets.definitions",
        "-j",
        "daily_reconciliation",
        "--tags",
        json.dumps({"dagster/partition": DAY}),
    ]
    proc = subprocess.run(
        cmd,
        env={**os.environ, "DAGSTER_HOME": str(env)},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert table(env, "resumo_conciliacao", "SELECT count(*), sum(linhas_csv) FROM {t}") == [(1, 1_000)]


def checkpoint_of(root: Path, run_id: str) -> dict:
    return json.loads((root / "checkpoints" / run_id / "checkpoint.json").read_text())


def test_checkpoint_records_every_finished_step(env):
    generate(Scenario(rows=1_000, data_referencia=date(2024, 3, 10)), env / "ingress", env / "base.duckdb")
    result = run()
    doc = checkpoint_of(env, result.run_id)
    assert doc["status"] == "SUCCESS" and doc["job_id"] == result.run_id and doc["end_time"]
    assert [u["unit"] for u in doc["progress"]["completed_units"]] == doc["units"]
    assert doc["progress"]["last_completed_unit"] == "relatorio_diario"
    truth_lines = table(env, "resumo_conciliacao", "SELECT linhas_csv FROM {t}")[0][0]
    assert (
        doc["progress"]["total_lines"],
        doc["progress"]["processed_lines"],
        doc["progress"]["pending_lines"],
    ) == (
        truth_lines,
        truth_lines,
        0,
    )
    assert doc["data_referencia"] == DAY and doc["error_details"] is None
    assert doc["checkpoint_location"] == str(env / "checkpoints" / result.run_id / "checkpoint.json")
    assert "validadas.parquet" in doc["intermediate_data"]["files"]


def daily_job():
    """Module-level, so Dagster can reconstruct the job in a re-execution."""
    return build_defs().resolve_job_def("daily_reconciliation")


def test_reexecution_from_failure_resumes_without_redoing_finished_steps(env):
    generate(Scenario(rows=1_000, data_referencia=date(2024, 3, 10)), env / "ingress", env / "base.duckdb")
    (env / "base.duckdb").rename(env / "base.moved")  # the internal base is unreachable
    with dg.instance_for_test() as instance:
        first = dg.execute_job(dg.reconstructable(daily_job), instance, tags={"dagster/partition": DAY})
        assert not first.success
        doc = checkpoint_of(env, first.run_id)
        assert (doc["status"], doc["error_details"]["stage"]) == ("FAILED", "base_interna_snapshot")
        assert doc["error_details"]["error_type"] == "InternalBaseError"
        assert [u["unit"] for u in doc["progress"]["completed_units"]] == ["arquivos_fornecedor", "validacao"]
        assert "base interna não encontrada" in doc["error_details"]["message"]
        # A configuration error is not retried: one attempt only.
        assert [e.event_type_value for e in first.all_events].count("STEP_UP_FOR_RETRY") == 0

        (env / "base.moved").rename(env / "base.duckdb")
        second = dg.execute_job(
            dg.reconstructable(daily_job),
            instance,
            reexecution_options=dg.ReexecutionOptions.from_failure(first.run_id, instance),
            tags={"dagster/partition": DAY},
        )
        assert second.success
        started = sorted(e.step_key for e in second.all_events if e.event_type_value == "STEP_START")
        assert started == ["base_interna_snapshot", "divergencias", "relatorio_diario", "resumo_conciliacao"]
    assert table(env, "resumo_conciliacao", "SELECT count(*) FROM {t}") == [(1,)]


def test_asset_materialisation_outside_the_job_also_leaves_a_checkpoint(env):
    """The UI's partition launcher and asset backfills run the assets, not daily_reconciliation."""
    generate(Scenario(rows=500, data_referencia=date(2024, 3, 10)), env / "ingress", env / "base.duckdb")
    from reconciliation_assets.definitions import ASSETS

    raw_files = next(a for a in ASSETS if a.key == dg.AssetKey("arquivos_fornecedor"))
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [raw_files],
            partition_key=DAY,
            instance=instance,
            resources={k: build_defs().resources[k] for k in ("storage", "rules", "area_trabalho")},
        )
    assert result.success
    doc = checkpoint_of(env, result.run_id)
    assert [u["unit"] for u in doc["progress"]["completed_units"]] == ["arquivos_fornecedor"]
    assert doc["status"] == "RUNNING"
