"""Glue Data Catalog registration against moto's server (S3 output and Glue on the same endpoint).

A real date runs through ``daily_reconciliation`` with ``RECON_GLUE_DATABASE`` set; what boto3 then
reads back from Glue is compared with literal expectations (columns, types, partition key,
locations) and with the Parquet the run published. A Glue outage leaves the day published and the
WARN check ``catalogo_glue`` failed; the next publication registers again.
"""

from __future__ import annotations

import logging
import socket
import uuid
from urllib.parse import urlparse

import boto3
import dagster as dg
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from reconciliation_assets.catalog import hive_type_of_arrow
from reconciliation_assets.cli import main as recon
from reconciliation_assets.definitions import build_defs
from resources.env import ConfigurationError
from tests import servers
from tests.servers import s3_client

s3_server, s3_env, s3_bucket = servers.s3_server, servers.s3_env, servers.s3_bucket

DAY = "2024-03-10"
TABLES = ("divergencias", "resumo_conciliacao", "quarentena", "pendencias")
SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
# Written out by hand (not imported from the generator): what an analyst's Athena/Spark must see.
COLUMNS = {
    "divergencias": (
        "fornecedor_id string, ordem_id string, nome string, ativo_id string, data date, data_base date, "
        "valor_csv decimal(18,2), valor_base decimal(18,2), valor_diferenca decimal(19,2), "
        "tipo_divergencia string, detalhes string, severidade string, hash_linha string, "
        "timestamp timestamp, job_id string"
    ),
    "resumo_conciliacao": (
        "job_id string, started_at timestamp, finished_at timestamp, arquivos bigint, linhas_csv bigint, "
        "linhas_validas bigint, linhas_quarentena bigint, linhas_em_branco bigint, linhas_base_escopo bigint, "
        "conciliadas_sem_divergencia bigint, tipo_1 bigint, tipo_2 bigint, tipo_3_valor bigint, "
        "tipo_3_data bigint, tipo_3_fornecedor bigint, tipo_3_ativo bigint, tipo_3_nome bigint, "
        "taxa_divergencia double, cobertura_inicio date, cobertura_fim date, arquivo_chegou_em timestamp, "
        "sla_prazo timestamp, sla_cumprido boolean, total_csv decimal(38,2), total_base_escopo decimal(38,2), "
        "total_explicado decimal(38,2), diferenca_nao_explicada decimal(38,2), casadas bigint"
    ),
    "quarentena": "arquivo string, linha bigint, conteudo string, motivo string, detalhe string",
    "pendencias": (
        "pendencia_id string, ordem_id string, tipo_divergencia string, fornecedor_id string, "
        "severidade string, valor_csv decimal(18,2), valor_base decimal(18,2), valor_diferenca decimal(19,2), "
        "detalhes string, situacao string, aberta_em date, vista_em date, resolvida_em date, "
        "dias_em_aberto int, faixa_idade string, job_id string, timestamp timestamp"
    ),
}


def expected_columns(table: str) -> list[tuple[str, str]]:
    return [tuple(pair.split(" ")) for pair in COLUMNS[table].split(", ")]  # type: ignore[misc]


def glue_client(endpoint: str):
    return boto3.client(
        "glue",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def day_on_s3(tmp_path, monkeypatch, s3_env, s3_bucket):
    """One generated day (local ingress + DuckDB base) publishing to ``s3://<bucket>/saida``, Glue on."""
    code = recon(
        [
            "generate", "--date", DAY, "--rows", "2000", "--seed", "7", "--quiet",
            "--ingress", str(tmp_path / "ingress"), "--base", str(tmp_path / "base.duckdb"),
        ]
    )  # fmt: skip
    assert code == 0
    database = f"conciliacao_{uuid.uuid4().hex[:8]}"  # the moto server lives for the whole session
    for key, value in {
        "RECON_INGRESS_URI": str(tmp_path / "ingress"),
        "RECON_OUTPUT_URI": f"s3://{s3_bucket}/saida",
        "RECON_CHECKPOINT_URI": str(tmp_path / "checkpoints"),
        "RECON_WORK_DIR": str(tmp_path / "work"),
        "RECON_DUCKDB_TEMP_DIR": str(tmp_path / "tmp"),
        "RECON_INTERNAL_DB_URL": f"duckdb:///{tmp_path / 'base.duckdb'}",
        "RECON_GLUE_DATABASE": database,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_GLUE", raising=False)
    return database


def run_day(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    result = (
        build_defs()
        .resolve_job_def("daily_reconciliation")
        .execute_in_process(partition_key=DAY, instance=instance, raise_on_error=False)
    )
    assert result.success, [str(e.message) for e in result.all_events if e.is_failure]
    return result


def catalog_evaluation(result: dg.ExecuteInProcessResult):
    evaluations = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == "catalogo_glue"
    ]
    assert len(evaluations) == 1
    return evaluations[0]


def divergences_metadata(result: dg.ExecuteInProcessResult) -> dict:
    return next(
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("divergencias")
    )


def published_keys(endpoint: str, bucket: str) -> list[str]:
    listing = s3_client(endpoint).list_objects_v2(Bucket=bucket, Prefix="saida/")
    return sorted(o["Key"] for o in listing.get("Contents", []) if "/_manifestos/" not in o["Key"])


def assert_registered(glue, database: str, bucket: str) -> None:
    """The database, the four tables and exactly one partition (DAY) of each, as published."""
    assert glue.get_database(Name=database)["Database"]["Name"] == database
    assert sorted(t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"]) == sorted(TABLES)
    for table in TABLES:
        got = glue.get_table(DatabaseName=database, Name=table)["Table"]
        storage = got["StorageDescriptor"]
        assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == expected_columns(table), table
        assert got["PartitionKeys"] == [{"Name": "data_referencia", "Type": "date"}]
        assert got["TableType"] == "EXTERNAL_TABLE"
        assert storage["Location"] == f"s3://{bucket}/saida/{table}/"
        assert (storage["InputFormat"], storage["OutputFormat"]) == (INPUT_FORMAT, OUTPUT_FORMAT)
        assert storage["SerdeInfo"]["SerializationLibrary"] == SERDE
        assert got["Parameters"] == {
            "EXTERNAL": "TRUE",
            "classification": "parquet",
            "projection.enabled": "true",
            "projection.data_referencia.type": "date",
            "projection.data_referencia.format": "yyyy-MM-dd",
            "projection.data_referencia.range": "2024-01-01,NOW",
            "projection.data_referencia.interval": "1",
            "projection.data_referencia.interval.unit": "DAYS",
            "storage.location.template": f"s3://{bucket}/saida/{table}/data_referencia=${{data_referencia}}/",
        }
        partitions = glue.get_partitions(DatabaseName=database, TableName=table)["Partitions"]
        assert [
            (
                p["Values"],
                p["StorageDescriptor"]["Location"],
                p["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"],
            )
            for p in partitions
        ] == [([DAY], f"s3://{bucket}/saida/{table}/data_referencia={DAY}/", SERDE)], table
        assert [
            (c["Name"], c["Type"]) for c in partitions[0]["StorageDescriptor"]["Columns"]
        ] == expected_columns(table)


def test_a_publication_registers_the_four_tables_and_its_partition_and_a_rerun_keeps_one(
    day_on_s3, s3_env, s3_bucket
):
    database = day_on_s3
    glue = glue_client(s3_env)
    with dg.instance_for_test() as instance:
        first = run_day(instance)
        evaluation = catalog_evaluation(first)
        assert (evaluation.passed, evaluation.severity) == (True, dg.AssetCheckSeverity.WARN)
        assert {k: v.value for k, v in evaluation.metadata.items()} == {
            "estado": "registrado",
            "banco": database,
            "banco_no_glue": "criada",
            "tabelas": "divergencias=criada, resumo_conciliacao=criada, quarentena=criada, pendencias=criada",
            "particoes": "divergencias=criada, resumo_conciliacao=criada, quarentena=criada, pendencias=criada",
        }
        assert divergences_metadata(first)["catalogo_glue"].value == f"registrado em {database}"
        assert_registered(glue, database, s3_bucket)
        versions = {t: glue.get_table(DatabaseName=database, Name=t)["Table"]["VersionId"] for t in TABLES}

        # The registered types are the published files' own (the Parquet on S3, read back).
        endpoint = urlparse(s3_env).netloc
        fs = pafs.S3FileSystem(
            endpoint_override=endpoint,
            scheme="http",
            access_key="testing",
            secret_key="testing",
            region="us-east-1",
        )
        for table in TABLES:
            schema = pq.read_schema(
                f"{s3_bucket}/saida/{table}/data_referencia={DAY}/part-0.parquet", filesystem=fs
            )
            assert [(f.name, hive_type_of_arrow(f.type)) for f in schema] == expected_columns(table), table

        # Re-running the date: no AlreadyExists failure, still one partition per table, tables untouched.
        second = run_day(instance)
    evaluation = catalog_evaluation(second)
    assert evaluation.passed
    assert {k: v.value for k, v in evaluation.metadata.items()} == {
        "estado": "registrado",
        "banco": database,
        "banco_no_glue": "igual",
        "tabelas": "divergencias=igual, resumo_conciliacao=igual, quarentena=igual, pendencias=igual",
        "particoes": (
            "divergencias=atualizada, resumo_conciliacao=atualizada, quarentena=atualizada, pendencias=atualizada"
        ),
    }
    assert_registered(glue, database, s3_bucket)
    assert {
        t: glue.get_table(DatabaseName=database, Name=t)["Table"]["VersionId"] for t in TABLES
    } == versions


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_glue_outage_leaves_the_day_published_and_the_warn_check_failed_until_the_next_publication(
    day_on_s3, s3_env, s3_bucket, monkeypatch
):
    database = day_on_s3
    refused = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", refused)  # boto3's per-service endpoint: S3 stays up
    with dg.instance_for_test() as instance:
        failed = run_day(instance)
        evaluation = catalog_evaluation(failed)
        assert (evaluation.passed, evaluation.severity) == (False, dg.AssetCheckSeverity.WARN)
        error = f"EndpointConnectionError('Could not connect to the endpoint URL: \"{refused}/\"')"
        assert {k: v.value for k, v in evaluation.metadata.items()} == {
            "estado": "falhou",
            "banco": database,
            "erro": error,
        }
        assert evaluation.description == f"publicada, mas não registrada no Glue: {error}"
        assert divergences_metadata(failed)["catalogo_glue"].value == f"FALHOU em {database}: {error}"
        assert divergences_metadata(failed)["publicada"].value is True
        logged = [
            e.user_message
            for e in instance.all_logs(failed.run_id)
            if e.level == logging.ERROR and "Glue" in e.user_message
        ]
        assert logged == [
            f"{DAY}: publicado, mas o registro no Glue (banco {database}) falhou: {error}; "
            "a próxima publicação registra de novo."
        ]
        assert published_keys(s3_env, s3_bucket) == sorted(
            [f"saida/{t}/data_referencia={DAY}/part-0.parquet" for t in TABLES]
            + [f"saida/relatorio/data_referencia={DAY}/index.html"]
        )
        glue = glue_client(s3_env)
        assert database not in [d["Name"] for d in glue.get_databases()["DatabaseList"]]

        monkeypatch.delenv("AWS_ENDPOINT_URL_GLUE")
        again = run_day(instance)
    assert catalog_evaluation(again).passed
    assert_registered(glue, database, s3_bucket)


def test_glue_with_a_local_output_is_refused_when_the_definitions_load(monkeypatch, tmp_path):
    monkeypatch.setenv("RECON_OUTPUT_URI", str(tmp_path / "saida"))
    monkeypatch.setenv("RECON_GLUE_DATABASE", "conciliacao")
    with pytest.raises(ConfigurationError) as refused:
        build_defs()
    assert refused.value.problems == [
        f"RECON_GLUE_DATABASE='conciliacao': o Glue só registra saídas em s3://, mas "
        f"RECON_OUTPUT_URI='{tmp_path / 'saida'}' é uma pasta local (aponte RECON_OUTPUT_URI para "
        "s3://bucket/prefixo ou deixe RECON_GLUE_DATABASE vazio)"
    ]


def test_glue_is_off_when_the_database_is_empty(monkeypatch):
    monkeypatch.setenv("RECON_OUTPUT_URI", "recon_data/output")
    monkeypatch.setenv("RECON_GLUE_DATABASE", "")
    assert build_defs().resources["glue_catalog"].enabled is False
