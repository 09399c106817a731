"""Never publish a wrong day: plausibility gates, one publication per date, the deadline, retries.

Each test runs the real job in-process on the embedded default (tests/receivers.py harness) and
looks at what an analyst would see: the files under <output>, their bytes and their manifests.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.exceptions
import dagster as dg
import duckdb
import pytest

from reconciliation_assets.engine.header import HeaderError
from reconciliation_assets.run_guard import (
    BASIS_ARRIVAL,
    BASIS_RUN_START,
    RunDeadline,
    retry_wait_seconds,
    run_deadline,
)
from resources.internal_base import InternalBaseError
from resources.postgres_snapshot import InternalBaseUnavailable
from tests.chain import make_base
from tests.receivers import check_results, matching_day, pin_clock, run_day, run_divergences_only, write_day

DAY = "2024-03-10"
TABLES = ("quarentena", "divergencias", "pendencias", "resumo_conciliacao")


def output_state(root: Path, day: str = DAY) -> dict[str, str]:
    """sha256 of every published file of D (tables and manifests): what a reader can see."""
    state = {}
    out = root / "output"
    for path in sorted(out.rglob("*")):
        if path.is_file() and f"data_referencia={day}" in str(path):
            state[str(path.relative_to(out))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def job_ids(root: Path, day: str = DAY) -> set[str]:
    """The job_id of each of D's tables as published (from the data and the manifests)."""
    ids = set()
    for table in ("divergencias", "pendencias", "resumo_conciliacao"):
        part = root / "output" / table / f"data_referencia={day}" / "part-0.parquet"
        ids |= {r[0] for r in duckdb.sql(f"SELECT DISTINCT job_id FROM read_parquet('{part}')").fetchall()}
    manifests = root / "output" / "_manifestos" / f"data_referencia={day}"
    ids |= {json.loads((manifests / f"{t}.json").read_text())["job_id"] for t in TABLES}
    return ids


def good_day(root: Path, n: int = 40) -> None:
    lines, base = matching_day(DAY, n)
    lines.append("F9;X00001;Ana;A1;2024-03-09;5.00")  # one TIPO_1
    write_day(root, DAY, lines, base)


# ---- plausibility gates -----------------------------------------------------------------------


def test_an_emptied_internal_base_is_gated_and_the_earlier_output_stays(recon_env, instance):
    good_day(recon_env)
    first = run_day(instance, DAY)
    assert first.success
    before = output_state(recon_env)
    # four tables, their four manifests, the publication record, the chain status, the report and its manifest
    assert len(before) == 12

    make_base(recon_env / "base.duckdb", [])  # the ledger's table was emptied overnight
    gated = run_day(instance, DAY)
    assert not gated.success
    gate = check_results(gated)["plausibilidade"]
    assert not gate.passed
    assert gate.metadata["motivo"].value == "ESCOPO_INTERNO_VAZIO; DIVERGENCIA_ALTA"
    assert gate.metadata["linhas_validas"].value == 41 and gate.metadata["linhas_base_escopo"].value == 0
    assert gate.metadata["severidade_alerta"].value == "CRITICAL"
    assert output_state(recon_env) == before  # byte for byte the previous good day
    assert job_ids(recon_env) == {first.run_id}
    doc = json.loads((recon_env / "checkpoints" / gated.run_id / "checkpoint.json").read_text())
    assert doc["status"] == "GATED" and doc["error_details"]["stage"] == "divergencias"


def test_a_base_holding_only_another_dates_rows_is_gated(recon_env, instance):
    lines, _ = matching_day(DAY, 30)
    _, other_day = matching_day("2024-02-01", 30)
    other_day = [(f, "OTHER" + o, n, a, d, v) for f, o, n, a, d, v in other_day]
    write_day(recon_env, DAY, lines, other_day)
    result = run_day(instance, DAY)
    assert not result.success
    gate = check_results(result)["plausibilidade"]
    assert gate.metadata["motivo"].value == "ESCOPO_INTERNO_VAZIO; DIVERGENCIA_ALTA"
    assert output_state(recon_env) == {}  # a fresh date: nothing at all, not even the quarantine


def test_a_collapsed_match_rate_is_gated_with_observed_and_expected_figures(recon_env, instance):
    lines, base = matching_day(DAY, 40)
    write_day(recon_env, DAY, lines, base[:15])  # 15 of 40 found: 37.5 % < 50 %
    result = run_day(instance, DAY)
    assert not result.success
    gate = check_results(result)["plausibilidade"]
    assert gate.metadata["motivo"].value == "CASAMENTO_BAIXO; DIVERGENCIA_ALTA"
    assert gate.metadata["taxa_casamento"].value == pytest.approx(0.375)
    assert gate.metadata["piso_taxa_casamento"].value == 0.5
    assert "15 de 40" in gate.description
    assert output_state(recon_env) == {}


def test_the_gate_floor_is_configurable(recon_env, instance, monkeypatch):
    lines, base = matching_day(DAY, 40)
    write_day(recon_env, DAY, lines, base[:30])  # 75 % matched, 25 % divergent
    monkeypatch.setenv("RECON_MIN_TAXA_CASAMENTO", "0.8")
    gated = run_day(instance, DAY)
    assert check_results(gated)["plausibilidade"].metadata["motivo"].value == "CASAMENTO_BAIXO"
    monkeypatch.setenv("RECON_MIN_TAXA_CASAMENTO", "0.7")
    assert run_day(instance, DAY).success


def test_an_operator_can_publish_a_gated_day_and_the_manifest_records_it(recon_env, instance):
    lines, _ = matching_day(DAY, 20)
    write_day(recon_env, DAY, lines, [])
    result = run_day(instance, DAY, tags={"recon/publicar_mesmo_assim": "true"})
    assert result.success
    gate = check_results(result)["plausibilidade"]
    assert gate.passed and gate.metadata["liberado_por_operador"].value is True
    record = json.loads(
        (recon_env / "output/_manifestos/data_referencia=2024-03-10/publicacao.json").read_text()
    )
    assert record["liberacao_operador"]["tag"] == "recon/publicar_mesmo_assim"
    assert "ESCOPO_INTERNO_VAZIO" in record["liberacao_operador"]["motivos"]
    manifest = json.loads(
        (recon_env / "output/_manifestos/data_referencia=2024-03-10/divergencias.json").read_text()
    )
    assert manifest["liberacao_operador"] == record["liberacao_operador"]


def test_a_rerun_whose_inputs_differ_says_so(recon_env, instance):
    good_day(recon_env)
    first = run_day(instance, DAY)
    same = run_day(instance, DAY)
    assert check_results(same)["plausibilidade"].metadata["entradas_iguais_a_publicada"].value == "sim"
    lines, base = matching_day(DAY, 40)
    base[0] = (*base[0][:5], "999.99")  # the ledger changed one value
    make_base(recon_env / "base.duckdb", base)
    changed = run_day(instance, DAY)
    meta = check_results(changed)["plausibilidade"].metadata
    assert meta["entradas_iguais_a_publicada"].value == "não"
    assert meta["entradas_alteradas"].value == "escopo_interno"
    assert meta["publicada_pelo_job"].value == same.run_id != first.run_id


def test_a_rerun_with_the_same_inputs_is_byte_identical_apart_from_job_and_time(recon_env, instance):
    good_day(recon_env)
    cols = "* EXCLUDE (job_id, timestamp)"
    part = recon_env / "output/divergencias/data_referencia=2024-03-10/part-0.parquet"
    assert run_day(instance, DAY).success
    first = duckdb.sql(f"SELECT {cols} FROM read_parquet('{part}') ORDER BY ALL").fetchall()
    assert run_day(instance, DAY).success
    assert duckdb.sql(f"SELECT {cols} FROM read_parquet('{part}') ORDER BY ALL").fetchall() == first


# ---- the deadline and the retry schedule --------------------------------------------------------

NOW = datetime(2024, 3, 11, 7, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tags", "basis", "at"),
    [
        (
            {"recon/arquivo_chegou_em": "2024-03-11T07:00:00+00:00"},
            BASIS_ARRIVAL,
            "2024-03-11T07:20:00+00:00",
        ),
        ({"recon/arquivo_chegou_em": "2024-03-11T07:00:00"}, BASIS_ARRIVAL, "2024-03-11T07:20:00+00:00"),
        (  # an automatic run retry keeps the file's deadline
            {
                "recon/arquivo_chegou_em": "2024-03-11T07:00:00+00:00",
                "dagster/parent_run_id": "a",
                "dagster/retry_number": "1",
            },
            BASIS_ARRIVAL,
            "2024-03-11T07:20:00+00:00",
        ),
        (  # an operator's re-execution gets its own 20 minutes
            {"recon/arquivo_chegou_em": "2024-03-11T07:00:00+00:00", "dagster/parent_run_id": "a"},
            BASIS_RUN_START,
            "2024-03-11T07:25:00+00:00",
        ),
        ({"dagster/backfill": "b"}, BASIS_RUN_START, "2024-03-11T07:25:00+00:00"),
        ({}, BASIS_RUN_START, "2024-03-11T07:25:00+00:00"),
    ],
)
def test_the_deadline_is_arrival_plus_sla_for_file_runs_and_start_plus_sla_otherwise(tags, basis, at):
    deadline = run_deadline(tags, NOW, 20)
    assert (deadline.basis, deadline.at) == (basis, datetime.fromisoformat(at))


def s3_error(status: int, code: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject"
    )


DEADLINE = RunDeadline(NOW + timedelta(minutes=15), BASIS_ARRIVAL, 20)


@pytest.mark.parametrize(
    ("error", "waits"),
    [
        (InternalBaseUnavailable("conexão recusada"), [30, 60, 120, None]),
        (ConnectionResetError("reset"), [30, 60, 120, None]),
        (s3_error(503, "SlowDown"), [30, 60, 120, None]),
        (s3_error(500, "InternalError"), [30, 60, 120, None]),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://s3"), [30, 60, 120, None]),
        (s3_error(404, "NoSuchKey"), [None]),
        (s3_error(403, "AccessDenied"), [None]),
        (InternalBaseError("tabela não existe"), [None]),
        (HeaderError("a.csv: coluna ausente"), [None]),
        (dg.Failure("arquivo rejeitado"), [None]),
        (KeyError("bug"), [None]),
    ],
)
def test_only_transient_faults_are_retried_on_the_design_schedule(error, waits):
    got = [
        retry_wait_seconds(error, n, NOW, DEADLINE, base_seconds=30, max_retries=3) for n in range(len(waits))
    ]
    assert got == waits


def test_no_retry_starts_past_the_deadline():
    near = RunDeadline(NOW + timedelta(seconds=90), BASIS_ARRIVAL, 20)
    fault = InternalBaseUnavailable("x")
    assert [retry_wait_seconds(fault, n, NOW, near, base_seconds=30, max_retries=3) for n in range(3)] == [
        30,
        60,
        None,  # 120 s would start after the deadline
    ]


def test_a_down_internal_base_is_retried_on_schedule_then_fails_with_checkpoint(
    recon_env, instance, monkeypatch
):
    good_day(recon_env)
    import socket

    with socket.socket() as s:  # a port nobody listens on: the database server is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(
        "RECON_INTERNAL_DB_URL", f"postgresql://u:segredo@127.0.0.1:{port}/db?connect_timeout=2"
    )
    monkeypatch.setenv("RECON_RETRY_BASE_SECONDS", "0.2")
    result = run_day(instance, DAY)
    assert not result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert [e.step_key for e in retries] == ["base_interna_snapshot"] * 3
    assert [e.event_specific_data.seconds_to_wait for e in retries] == [0.2, 0.4, 0.8]
    doc = json.loads((recon_env / "checkpoints" / result.run_id / "checkpoint.json").read_text())
    assert doc["status"] == "FAILED"
    assert doc["error_details"]["stage"] == "base_interna_snapshot"
    assert doc["error_details"]["error_type"] == "InternalBaseUnavailable"
    assert "segredo" not in json.dumps(doc)
    assert output_state(recon_env) == {}


def test_a_run_whose_file_arrived_more_than_20_minutes_ago_stops_at_once(recon_env, instance, monkeypatch):
    good_day(recon_env)
    late = (pin_clock(monkeypatch) - timedelta(minutes=21)).isoformat()
    result = run_day(instance, DAY, tags={"recon/arquivo_chegou_em": late})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "arquivos_fornecedor"
    assert "Prazo estourado" in failure.event_specific_data.error.message
    doc = json.loads((recon_env / "checkpoints" / result.run_id / "checkpoint.json").read_text())
    assert (doc["status"], doc["error_details"]["stage"]) == ("TIMEOUT", "arquivos_fornecedor")
    assert output_state(recon_env) == {}


def daily_job():
    from reconciliation_assets.definitions import build_defs

    return build_defs().resolve_job_def("daily_reconciliation")


def test_a_deadline_falling_mid_run_stops_it_publishes_nothing_and_resumes(recon_env):
    """The deadline falls during a step: the watchdog interrupts DuckDB, the run ends TIMEOUT."""
    from datetime import date

    from reconciliation_assets.generator import Scenario, generate

    generate(
        Scenario(rows=150_000, data_referencia=date(2024, 3, 10)),
        recon_env / "ingress",
        recon_env / "base.duckdb",
    )
    with dg.instance_for_test() as instance:
        arrival = datetime.now(tz=UTC) - timedelta(minutes=20) + timedelta(seconds=2.5)
        first = dg.execute_job(
            dg.reconstructable(daily_job),
            instance,
            tags={"dagster/partition": DAY, "recon/arquivo_chegou_em": arrival.isoformat()},
        )
        assert not first.success
        doc = json.loads((recon_env / "checkpoints" / first.run_id / "checkpoint.json").read_text())
        assert doc["status"] == "TIMEOUT"
        failed_at = doc["error_details"]["stage"]
        assert failed_at != "arquivos_fornecedor" or doc["progress"]["completed_units"] == []
        assert output_state(recon_env) == {}
        retries = [e for e in first.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
        assert retries == []  # a timeout is never retried

        second = dg.execute_job(
            dg.reconstructable(daily_job),
            instance,
            reexecution_options=dg.ReexecutionOptions.from_failure(first.run_id, instance),
            tags={"dagster/partition": DAY},
        )
        assert second.success
        started = [e.step_key for e in second.all_events if e.event_type_value == "STEP_START"]
        done_before = [u["unit"] for u in doc["progress"]["completed_units"]]
        assert not set(started) & set(done_before)  # finished work is not redone
        assert failed_at in started
    assert job_ids(recon_env) == {second.run_id}


# ---- one publication per date, under SIGKILL ------------------------------------------------------

KILLER = Path(__file__).with_name("kill_run.py")


def killed_run(root: Path, point: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(KILLER), point, DAY],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def recon_vars() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("RECON_")}


@pytest.mark.slow  # a run process killed, then the next run (~12-21 s each)
@pytest.mark.parametrize("point", ["validacao", "staging", "journal"])
def test_a_run_killed_before_its_commit_leaves_the_previous_set_intact(recon_env, instance, point):
    good_day(recon_env)
    first = run_day(instance, DAY)
    before = output_state(recon_env)
    lines, base = matching_day(DAY, 40)
    write_day(recon_env, DAY, [*lines, "F9;X00002;Ana;A1;2024-03-09;7.00"], base)  # a new file version
    killed = killed_run(recon_env, point, recon_vars())
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert output_state(recon_env) == before
    assert job_ids(recon_env) == {first.run_id}
    rerun = run_day(instance, DAY)  # the next run starts clean and publishes the new version
    assert rerun.success and job_ids(recon_env) == {rerun.run_id}
    assert duckdb.sql(
        f"SELECT ordem_id FROM read_parquet('{recon_env}/output/divergencias/*/*.parquet') WHERE tipo_divergencia='TIPO_1'"
    ).fetchall() == [("X00002",)]


@pytest.mark.slow  # a run process killed, then the next run (~20 s each)
@pytest.mark.parametrize("point", ["promote-1", "promote-2", "promote-3"])
def test_a_run_killed_mid_publication_is_completed_by_the_next_run(recon_env, instance, point):
    good_day(recon_env)
    run_day(instance, DAY)
    lines, base = matching_day(DAY, 40)
    write_day(recon_env, DAY, [*lines, "F9;X00002;Ana;A1;2024-03-09;7.00"], base)
    killed = killed_run(recon_env, point, recon_vars())
    assert killed.returncode == -9, killed.stderr[-2000:]
    journal = recon_env / "output/_manifestos/data_referencia=2024-03-10/pendente.json"
    assert journal.exists()  # committed: the new set is what D will show
    new_job = json.loads(journal.read_text())["job_id"]

    from reconciliation_assets.definitions import build_defs
    from reconciliation_assets.publication import recover

    with dg.build_resources({"storage": build_defs().resources["storage"]}) as resources:
        record = recover(resources.storage, DAY)  # what the next run of D does first
    assert record["job_id"] == new_job and not journal.exists()
    assert job_ids(recon_env) == {new_job}  # every table and manifest from the killed run's set
    assert not any((recon_env / "output" / "_staging").glob("*"))
    for table in TABLES:
        manifest = json.loads(
            (recon_env / f"output/_manifestos/data_referencia={DAY}/{table}.json").read_text()
        )
        part = recon_env / "output" / table / f"data_referencia={DAY}" / "part-0.parquet"
        assert manifest["sha256"] == hashlib.sha256(part.read_bytes()).hexdigest()
    # and a clean re-run gives the same rows
    cols = "* EXCLUDE (job_id, timestamp)"
    part = recon_env / "output/divergencias/data_referencia=2024-03-10/part-0.parquet"
    recovered = duckdb.sql(f"SELECT {cols} FROM read_parquet('{part}') ORDER BY ALL").fetchall()
    assert run_day(instance, DAY).success
    assert duckdb.sql(f"SELECT {cols} FROM read_parquet('{part}') ORDER BY ALL").fetchall() == recovered


def test_divergences_launched_before_their_inputs_stop_with_a_retryable_explanation(recon_env):
    """A backfill run holding only D's divergences, queued before D's earlier steps (seen in Dagster
    1.13): no stack trace from DuckDB, a Failure that says what happened and allows a run retry."""
    with dg.instance_for_test() as instance:
        result = run_divergences_only(instance, DAY)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error = failure.event_specific_data.error
    missing = (
        "arquivos_fornecedor (linhas.parquet, arquivos.parquet); "
        "transacoes_validadas (validadas.parquet, estatisticas_linhas.parquet); "
        "quarentena (quarentena.parquet); base_interna_snapshot (base_interna.parquet)"
    )
    assert error.message.startswith(
        f"dagster._core.definitions.events.Failure: {DAY}: as entradas deste passo ainda não existem "
        f"ou mudaram depois de registradas ({missing})"
    )
    assert failure.event_specific_data.user_failure_data.metadata["entradas_ausentes"].value == missing
    assert "IOException" not in error.to_string()
    assert output_state(recon_env) == {}
