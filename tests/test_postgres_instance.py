"""Dagster itself on Postgres: the production instance file, rendered from the environment, really works."""

from __future__ import annotations

import json
from datetime import date

import dagster as dg
import psycopg2
import pytest
import yaml

from deploy import render_instance_config as render
from reconciliation_assets.definitions import build_defs
from reconciliation_assets.generator import Scenario, generate
from reconciliation_assets.partitions import daily_partitions
from tests import servers

# The server fixtures (tests/servers.py), imported into this module.
pg_server, pg_url = servers.pg_server, servers.pg_url

DAY = "2024-03-10"
ASSETS = {
    "arquivos_fornecedor",
    "transacoes_validadas",
    "quarentena",
    "base_interna_snapshot",
    "divergencias",
    "pendencias",
    "resumo_conciliacao",
    "relatorio_diario",
}


def test_the_job_runs_on_a_postgres_instance_and_everything_lands_in_postgres(tmp_path, monkeypatch, pg_url):
    # The operator's environment: Dagster's own database and a few tunables, nothing else.
    dagster_url = pg_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    monkeypatch.setenv("DAGSTER_PG_URL", dagster_url)
    monkeypatch.setenv("RECON_RUN_MAX_RETRIES", "2")
    monkeypatch.setenv("RECON_MAX_CONCURRENT_RUNS", "8")
    monkeypatch.setenv("RECON_RUN_MONITORING_POLL_SECONDS", "15")
    home = tmp_path / "dagster_home"
    assert render.main(["--out", str(home / "dagster.yaml")]) == 0
    rendered = (home / "dagster.yaml").read_text()
    assert "DAGSTER_PG_URL" in rendered and "postgres@" not in rendered  # the URL stays a reference

    for key, value in {
        "RECON_INGRESS_URI": tmp_path / "ingress",
        "RECON_OUTPUT_URI": tmp_path / "output",
        "RECON_CHECKPOINT_URI": tmp_path / "checkpoints",
        "RECON_WORK_DIR": tmp_path / "work",
        "RECON_DUCKDB_TEMP_DIR": tmp_path / "tmp",
        "RECON_INTERNAL_DB_URL": f"duckdb:///{tmp_path / 'base.duckdb'}",
    }.items():
        monkeypatch.setenv(key, str(value))
    generate(
        Scenario(rows=1_000, data_referencia=date(2024, 3, 10)),
        tmp_path / "ingress",
        tmp_path / "base.duckdb",
    )

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert {
            type(instance.run_storage).__name__,
            type(instance.event_log_storage).__name__,
            type(instance.schedule_storage).__name__,
        } == {"PostgresRunStorage", "PostgresEventLogStorage", "PostgresScheduleStorage"}
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert (instance.run_retries_enabled, instance.run_retries_max_retries) == (True, 2)
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        assert (
            instance.run_monitoring_enabled
            and instance.run_monitoring_settings["poll_interval_seconds"] == 15
        )
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 8
        assert queue.tag_concurrency_limits == [
            {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        ]

        result = (
            build_defs()
            .resolve_job_def("daily_reconciliation")
            .execute_in_process(partition_key=DAY, instance=instance, raise_on_error=False)
        )
        assert result.success
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        assert instance.get_materialized_partitions(dg.AssetKey("divergencias")) == {DAY}
        status = instance.get_status_by_partition(
            dg.AssetKey("resumo_conciliacao"),
            partition_keys=[DAY, "2024-03-09"],
            partitions_def=daily_partitions,
        )
        assert status == {DAY: dg.AssetPartitionStatus.MATERIALIZED, "2024-03-09": None}

    # The same facts read straight from Dagster's tables in Postgres.
    conn = psycopg2.connect(pg_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT status, pipeline_name FROM runs WHERE run_id = %s", (result.run_id,))
        assert cur.fetchall() == [("SUCCESS", "daily_reconciliation")]
        cur.execute(
            "SELECT value FROM run_tags WHERE run_id = %s AND key = 'dagster/partition'", (result.run_id,)
        )
        assert cur.fetchall() == [(DAY,)]
        cur.execute(
            "SELECT DISTINCT asset_key, partition FROM event_logs "
            "WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            (result.run_id,),
        )
        assert {(json.loads(k)[0], p) for k, p in cur.fetchall()} == {(a, DAY) for a in ASSETS}
        cur.execute("SELECT count(*) FROM asset_keys")
        assert cur.fetchone()[0] >= len(ASSETS)
    conn.close()


def test_the_template_is_a_valid_instance_file_as_it_stands():
    template = yaml.safe_load(render.TEMPLATE.read_text())
    assert template["storage"] == {"postgres": {"postgres_url": {"env": "DAGSTER_PG_URL"}}}
    assert render.render({}) == template
    assert render.defaults() == {
        "RECON_MAX_CONCURRENT_RUNS": 4,
        "RECON_RUNS_PER_DATE": 1,
        "RECON_POOL_DEFAULT_LIMIT": 2,
        "RECON_RUN_MONITORING_ENABLED": True,
        "RECON_RUN_MONITORING_POLL_SECONDS": 30,
        "RECON_RUN_START_TIMEOUT_SECONDS": 180,
        "RECON_RUN_CANCEL_TIMEOUT_SECONDS": 180,
        "RECON_RUN_MAX_RUNTIME_SECONDS": 1200,
        "RECON_FREE_SLOTS_AFTER_RUN_END_SECONDS": 30,
        "RECON_RUN_RETRIES_ENABLED": True,
        "RECON_RUN_MAX_RETRIES": 1,
        "RECON_RUN_RETRY_ON_STEP_FAILURE": False,
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RECON_RUN_MAX_RETRIES": "três"}, "RECON_RUN_MAX_RETRIES='três': use um número inteiro"),
        ({"RECON_RUNS_PER_DATE": "0"}, "RECON_RUNS_PER_DATE='0': deve ser >= 1"),
        ({"RECON_RUN_RETRIES_ENABLED": "talvez"}, "RECON_RUN_RETRIES_ENABLED='talvez': use true ou false"),
    ],
)
def test_a_bad_override_stops_the_start_up(tmp_path, monkeypatch, capsys, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert render.main(["--out", str(tmp_path / "dagster.yaml")]) == 2
    assert capsys.readouterr().err == f"erro: {message}\n"
    assert not (tmp_path / "dagster.yaml").exists()
