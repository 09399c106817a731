"""Real infrastructure end to end: CSV on S3 → sensor → run reading Postgres → Parquet on S3.

The same generated day is also run on the embedded default (local folder + DuckDB base); both
must publish the same rows (every column but the run's own ``timestamp``/``job_id``/times).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

import sensors.ingress as ingress
from reconciliation_assets.assets.common import ARRIVAL_TAG
from reconciliation_assets.cli import main as recon
from reconciliation_assets.contract import EXPECTATIVAS_DIVERGENCIAS
from reconciliation_assets.definitions import build_defs
from reconciliation_assets.publication import TableFile, publish_day
from resources.storage import ReconStorage
from sensors.ingress import CHANGED_FILES_TAG, FILE_TAG
from tests import servers
from tests.receivers import check_results, run_audit
from tests.servers import s3_client

# The server fixtures (tests/servers.py), imported into this module.
pg_server, pg_url, s3_server, s3_env, s3_bucket = (
    servers.pg_server,
    servers.pg_url,
    servers.s3_server,
    servers.s3_env,
    servers.s3_bucket,
)

DAY = "2024-03-10"
DIVERGENCIAS = (
    "fornecedor_id, ordem_id, nome, ativo_id, data, data_base, valor_csv, valor_base, valor_diferenca, "
    "tipo_divergencia, detalhes, severidade, hash_linha"
)
QUARENTENA = "arquivo, linha, conteudo, motivo, detalhe"
RESUMO_RUN_COLUMNS = {"job_id", "started_at", "finished_at", "arquivo_chegou_em", "sla_prazo"}


@pytest.fixture(autouse=True)
def next_morning(monkeypatch):
    """The sensor runs on the morning after DAY (São Paulo), when the supplier's file lands."""
    monkeypatch.setattr(
        ingress, "_now", lambda: datetime(2024, 3, 11, 6, 10, tzinfo=ZoneInfo("America/Sao_Paulo"))
    )


def point_env(monkeypatch, values: dict[str, str]) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def s3_tables(endpoint: str, bucket: str, prefix: str) -> duckdb.DuckDBPyConnection:
    """The published Parquet read back from S3 with pyarrow (DuckDB's httpfs cannot be installed here)."""
    fs = pafs.S3FileSystem(
        endpoint_override=urlparse(endpoint).netloc,
        scheme="http",
        access_key="testing",
        secret_key="testing",
        region="us-east-1",
    )
    con = duckdb.connect()
    for name in ("divergencias", "quarentena", "resumo_conciliacao"):
        table = pq.read_table(f"{bucket}/{prefix}/{name}/data_referencia={DAY}/part-0.parquet", filesystem=fs)
        con.register(name, table)
    return con


def local_tables(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in ("divergencias", "quarentena", "resumo_conciliacao"):
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{root}/{name}/data_referencia={DAY}/part-0.parquet', hive_partitioning = false)"
        )
    return con


def resumo(con: duckdb.DuckDBPyConnection) -> dict:
    rel = con.sql("SELECT * FROM resumo_conciliacao")
    return dict(zip(rel.columns, rel.fetchall()[0], strict=True))


def sensor_tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def("ingresso_fornecedor")
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=defs.resources) as context:
        return sensor(context)


# RECON_ENGINE of the S3 run; the local run it is compared with is always on DuckDB. On Spark the
# same job reads the CSV from S3 and the snapshot from Postgres and publishes the same rows to S3.
@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.slow)])
def test_csv_on_s3_runs_against_postgres_and_publishes_to_s3_like_the_local_path(
    tmp_path, monkeypatch, capsys, s3_env, s3_bucket, pg_url, engine
):
    # 1. Generate a day, load its internal base into Postgres (COPY) and its CSV into S3.
    local_in, base = tmp_path / "local_ingress", tmp_path / "base.duckdb"
    pg = pg_url.replace("postgresql://", "postgresql+psycopg2://", 1)  # the SQLAlchemy spelling works too
    monkeypatch.setenv("RECON_S3_SSE", "AES256")
    code = recon(
        [
            "generate", "--date", DAY, "--rows", "3000", "--seed", "7", "--quiet",
            "--ingress", str(local_in), "--base", str(base),
            "--postgres-url", pg, "--s3-ingress", f"s3://{s3_bucket}/entrada",
        ]
    )  # fmt: skip
    assert code == 0
    truth = json.loads(capsys.readouterr().out)
    assert truth["extra"]["postgres"] == {
        "destino": f"postgresql+psycopg2://socket/{urlparse(pg_url).path.lstrip('/')}#transacoes_internas",
        "linhas": truth["linhas_base"],
    }
    assert truth["extra"]["s3_ingress"] == f"s3://{s3_bucket}/entrada/{DAY}/transacoes.csv"
    client = s3_client(s3_env)
    head = client.head_object(Bucket=s3_bucket, Key=f"entrada/{DAY}/transacoes.csv")
    assert head["ServerSideEncryption"] == "AES256"

    # 2. Production-like configuration, only through the environment.
    point_env(
        monkeypatch,
        {
            "RECON_INGRESS_URI": f"s3://{s3_bucket}/entrada",
            "RECON_OUTPUT_URI": f"s3://{s3_bucket}/saida",
            "RECON_CHECKPOINT_URI": f"s3://{s3_bucket}/checkpoints",
            "RECON_WORK_DIR": str(tmp_path / "work_s3"),
            "RECON_DUCKDB_TEMP_DIR": str(tmp_path / "tmp"),
            "RECON_DUCKDB_MEMORY_LIMIT": "1GB",
            "RECON_INTERNAL_DB_URL": pg,
            "RECON_ENGINE": engine,
        },
    )
    defs = build_defs()
    with dg.instance_for_test() as instance:
        # 3. One sensor tick: exactly one run for DAY, keyed by the object's key and ETag.
        first = sensor_tick(defs, instance, None)
        etag = head["ETag"].strip('"')
        arrival = head["LastModified"].astimezone(ZoneInfo("UTC")).isoformat()
        assert [(r.partition_key, r.run_key, dict(r.tags)) for r in first.run_requests] == [
            (
                DAY,
                f"{DAY}/transacoes.csv@{etag}",
                {
                    ARRIVAL_TAG: arrival,
                    FILE_TAG: f"s3://{s3_bucket}/entrada/{DAY}/transacoes.csv",
                    CHANGED_FILES_TAG: "1",
                },
            )
        ]
        request = first.run_requests[0]

        # 4. The run the daemon would launch: the job, that partition, the sensor's tags.
        result = defs.resolve_job_def("daily_reconciliation").execute_in_process(
            partition_key=request.partition_key, tags=request.tags, instance=instance, raise_on_error=False
        )
        assert result.success, [str(e.message) for e in result.all_events if e.is_failure]
        snapshot_meta = next(
            e.materialization.metadata
            for e in result.get_asset_materialization_events()
            if e.asset_key.to_user_string() == "base_interna_snapshot"
        )
        assert snapshot_meta["origem"].value.startswith("postgresql+psycopg2://socket/")
        assert snapshot_meta["dagster/row_count"].value == truth["linhas_base_escopo"]

        # 4b. The publication's Great Expectations audit reads the published table back from S3.
        audit = run_audit(instance, DAY)
        assert audit.success, [str(e.message) for e in audit.all_events if e.is_failure]
        ge = check_results(audit)[EXPECTATIVAS_DIVERGENCIAS]
        assert ge.passed, ge.description
        assert ge.metadata["linhas_total"].value == sum(truth["divergencias"].values())

        # 5. A second tick asks for nothing; a changed file asks for exactly one new run.
        second = sensor_tick(defs, instance, first.cursor)
        assert second.run_requests == [] and second.cursor == first.cursor
        changed = local_in / DAY / "transacoes.csv"
        original = changed.read_bytes()
        changed.write_bytes(original + b"F01;ORD-NOVA-1;Ana;A01;2024-03-09;1,00\n")
        client.upload_file(str(changed), s3_bucket, f"entrada/{DAY}/transacoes.csv")
        new_etag = client.head_object(Bucket=s3_bucket, Key=f"entrada/{DAY}/transacoes.csv")["ETag"].strip(
            '"'
        )
        third = sensor_tick(defs, instance, second.cursor)
        assert new_etag != etag
        assert [(r.partition_key, r.run_key) for r in third.run_requests] == [
            (DAY, f"{DAY}/transacoes.csv@{new_etag}")
        ]

    # 6. What analysts read on S3, compared with the embedded default on the same generated day.
    published = [
        o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket, Prefix="saida/").get("Contents", [])
    ]
    tables = ("divergencias", "pendencias", "quarentena", "resumo_conciliacao")
    assert sorted(published) == sorted(
        [f"saida/{t}/data_referencia={DAY}/part-0.parquet" for t in tables]
        + [
            f"saida/_manifestos/data_referencia={DAY}/{n}.json"
            for n in (*tables, "publicacao", "cadeia", "relatorio")
        ]
        + [f"saida/relatorio/data_referencia={DAY}/index.html"]
    )
    report = client.head_object(Bucket=s3_bucket, Key=f"saida/relatorio/data_referencia={DAY}/index.html")
    assert report["ContentType"] == "text/html; charset=utf-8" and report["ServerSideEncryption"] == "AES256"
    encryption = client.head_object(
        Bucket=s3_bucket, Key=f"saida/divergencias/data_referencia={DAY}/part-0.parquet"
    )
    assert encryption["ServerSideEncryption"] == "AES256"
    checkpoint = json.loads(
        client.get_object(Bucket=s3_bucket, Key=f"checkpoints/{result.run_id}/checkpoint.json")["Body"].read()
    )
    assert checkpoint["status"] == "SUCCESS"

    changed.write_bytes(original)  # the local run reads the same day the S3 run read
    point_env(
        monkeypatch,
        {
            "RECON_INGRESS_URI": str(local_in),
            "RECON_OUTPUT_URI": str(tmp_path / "local_out"),
            "RECON_CHECKPOINT_URI": str(tmp_path / "local_ckpt"),
            "RECON_WORK_DIR": str(tmp_path / "work_local"),
            "RECON_INTERNAL_DB_URL": f"duckdb:///{base}",
            "RECON_ENGINE": "duckdb",
        },
    )
    monkeypatch.delenv("RECON_S3_SSE")
    with dg.instance_for_test() as instance:
        local = (
            build_defs()
            .resolve_job_def("daily_reconciliation")
            .execute_in_process(partition_key=DAY, instance=instance, raise_on_error=False)
        )
    assert local.success

    on_s3, on_disk = s3_tables(s3_env, s3_bucket, "saida"), local_tables(tmp_path / "local_out")
    for name, columns in (("divergencias", DIVERGENCIAS), ("quarentena", QUARENTENA)):
        rows = on_s3.sql(f"SELECT {columns} FROM {name} ORDER BY ALL").fetchall()
        assert rows == on_disk.sql(f"SELECT {columns} FROM {name} ORDER BY ALL").fetchall()
        assert len(rows) > 0
    assert on_s3.sql("SELECT DISTINCT job_id FROM divergencias").fetchall() == [(result.run_id,)]
    s3_resumo, disk_resumo = resumo(on_s3), resumo(on_disk)
    assert {k: v for k, v in s3_resumo.items() if k not in RESUMO_RUN_COLUMNS} == {
        k: v for k, v in disk_resumo.items() if k not in RESUMO_RUN_COLUMNS
    }
    assert s3_resumo["job_id"] == result.run_id
    assert s3_resumo["arquivo_chegou_em"] == datetime.fromisoformat(arrival)
    assert s3_resumo["linhas_csv"] == truth["linhas_csv"] == 3000
    assert s3_resumo["linhas_base_escopo"] == truth["linhas_base_escopo"]
    assert str(s3_resumo["diferenca_nao_explicada"]) == "0.00"
    by_type = dict(on_s3.sql("SELECT tipo_divergencia, count(*) FROM divergencias GROUP BY 1").fetchall())
    assert by_type == {k: v for k, v in truth["divergencias"].items() if v}


def test_storage_round_trip_on_s3_with_kms_arguments(s3_env, s3_bucket, tmp_path):
    """publish_day → manifests → read_json over S3, with SSE-KMS arguments accepted by the server."""
    from dagster_aws.s3 import S3Resource

    storage = ReconStorage(
        output_uri=f"s3://{s3_bucket}/saida",
        s3=S3Resource(endpoint_url=s3_env, region_name="us-east-1"),
        s3_sse="aws:kms",
        s3_sse_kms_key_id="alias/recon",
    )
    local = tmp_path / "part.parquet"
    duckdb.sql(f"COPY (SELECT 1 AS x) TO '{local}' (FORMAT parquet)")
    record = publish_day(storage, DAY, "run-1", [TableFile("divergencias", local, 1)])
    stored = storage.read_json(f"s3://{s3_bucket}/saida/_manifestos/data_referencia={DAY}/divergencias.json")
    assert (stored["linhas"], stored["job_id"], stored["sha256"]) == (
        1,
        "run-1",
        record["tabelas"][0]["sha256"],
    )
    assert (
        storage.read_json(f"s3://{s3_bucket}/saida/_manifestos/data_referencia={DAY}/publicacao.json")
        == record
    )
    assert storage.read_json(f"s3://{s3_bucket}/saida/nao/existe.json") is None
    head = s3_client(s3_env).head_object(
        Bucket=s3_bucket, Key=f"saida/divergencias/data_referencia={DAY}/part-0.parquet"
    )
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"].endswith("alias/recon")) == ("aws:kms", True)
    keys = [o["Key"] for o in s3_client(s3_env).list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert sorted(keys) == [  # staging removed, no journal left
        f"saida/_manifestos/data_referencia={DAY}/divergencias.json",
        f"saida/_manifestos/data_referencia={DAY}/publicacao.json",
        f"saida/divergencias/data_referencia={DAY}/part-0.parquet",
    ]
    assert date.fromisoformat(stored["data_referencia"]) == date(2024, 3, 10)
