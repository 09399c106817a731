"""Issue 9: whatever launches a date (the job, UI Materialize, an asset backfill) it runs the same way,
the internal base holds several generated dates, and only runs serving a day's SLA are measured by it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import requests

from checks.deadlines import deadline_applies
from reconciliation_assets.cli import main as recon
from resources.settings import Deadlines
from tests.receivers import LOOPBACK, check_results, free_port, instance, recon_env, run_day  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
# Consecutive days: D2's TIPO_3_DATA internal rows are dated D2-2 = D1-1, inside D1's one-day coverage.
D1, D2 = "2024-03-10", "2024-03-11"
COLS = (
    "fornecedor_id, ordem_id, nome, ativo_id, data, data_base, valor_csv, valor_base, valor_diferenca, "
    "tipo_divergencia, detalhes, severidade, hash_linha"
)
ASSETS = [
    "arquivos_fornecedor",
    "transacoes_validadas",
    "quarentena",
    "base_interna_snapshot",
    "divergencias",
    "pendencias",
    "resumo_conciliacao",
]


def generate_cli(root: Path, day: str, rows: int) -> dict:
    argv = ["generate", "--date", day, "--rows", str(rows), "--quiet"]
    argv += ["--ingress", str(root / "ingress"), "--base", str(root / "base.duckdb")]
    assert recon(argv) == 0
    return json.loads((root / f"ground_truth_{day}.json").read_text())


def counts(root: Path, table: str, column: str, day: str) -> dict[str, int]:
    path = root / "output" / table / f"data_referencia={day}" / "part-0.parquet"
    return dict(duckdb.sql(f"SELECT {column}, count(*) FROM read_parquet('{path}') GROUP BY 1").fetchall())


def breaks(root: Path, day: str) -> list[tuple]:
    path = root / "output" / "pendencias" / f"data_referencia={day}" / "part-0.parquet"
    return duckdb.sql(
        f"SELECT * EXCLUDE (job_id, timestamp) FROM read_parquet('{path}') ORDER BY ALL"
    ).fetchall()


def rows(root: Path, day: str) -> list[tuple]:
    path = root / "output" / "divergencias" / f"data_referencia={day}" / "part-0.parquet"
    return duckdb.sql(f"SELECT {COLS} FROM read_parquet('{path}') ORDER BY ALL").fetchall()


def resumo(root: Path, day: str) -> dict:
    path = root / "output" / "resumo_conciliacao" / f"data_referencia={day}" / "part-0.parquet"
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
    return dict(zip(rel.columns, rel.fetchall()[0], strict=True))


def assert_matches_truth(root: Path, day: str, truth: dict) -> None:
    assert counts(root, "divergencias", "tipo_divergencia", day) == {
        k: v for k, v in truth["divergencias"].items() if v
    }
    assert counts(root, "quarentena", "motivo", day) == truth["quarentena"]
    r = resumo(root, day)
    assert (r["linhas_csv"], r["linhas_validas"], r["linhas_quarentena"]) == (
        truth["linhas_csv"],
        truth["linhas_validas"],
        truth["linhas_quarentena"],
    )
    assert (r["linhas_base_escopo"], r["conciliadas_sem_divergencia"]) == (
        truth["linhas_base_escopo"],
        truth["conciliadas_sem_divergencia"],
    )
    assert str(r["diferenca_nao_explicada"]) == "0.00"


def test_two_generated_dates_share_the_base_and_each_matches_its_truth(recon_env, instance):  # noqa: F811
    first_d1 = generate_cli(recon_env, D1, 2_000)
    assert first_d1["tipo_2_de_outras_datas"] == 0
    truth2 = generate_cli(recon_env, D2, 2_000)
    truth1 = json.loads((recon_env / f"ground_truth_{D1}.json").read_text())
    # D1's own rows survive D2's generation; D2's rows dated inside D1's coverage are TIPO_2 of D1
    # (a handful: the file of a day covers only its own day), D1's rows are outside D2's coverage.
    assert 0 < truth1["tipo_2_de_outras_datas"] < 0.01 * first_d1["linhas_base"]
    assert truth2["tipo_2_de_outras_datas"] == 0
    assert (
        truth1["divergencias"]["TIPO_2"]
        == first_d1["divergencias"]["TIPO_2"] + truth1["tipo_2_de_outras_datas"]
    )
    assert truth1["linhas_base"] == truth2["linhas_base"] == 2 * first_d1["linhas_base"]
    con = duckdb.connect(str(recon_env / "base.duckdb"), read_only=True)
    base_before = con.execute("SELECT * FROM transacoes_internas ORDER BY ordem_id").fetchall()
    con.close()

    assert run_day(instance, D1).success
    assert_matches_truth(recon_env, D1, truth1)
    d1_first = rows(recon_env, D1)
    assert run_day(instance, D2).success
    assert_matches_truth(recon_env, D2, truth2)
    assert run_day(instance, D1).success
    assert_matches_truth(recon_env, D1, truth1)
    assert rows(recon_env, D1) == d1_first

    # Regenerating a date with the same seed gives the same base and the same truths.
    assert generate_cli(recon_env, D1, 2_000)["divergencias"] == truth1["divergencias"]
    con = duckdb.connect(str(recon_env / "base.duckdb"), read_only=True)
    assert con.execute("SELECT * FROM transacoes_internas ORDER BY ordem_id").fetchall() == base_before
    con.close()


def test_deadline_rule():
    deadlines = Deadlines()
    now = datetime(2024, 3, 11, 9, 0, tzinfo=UTC)  # 06:00 in São Paulo: 2024-03-10 is due at 07:20
    arrived = {"recon/arquivo_chegou_em": now.isoformat()}
    assert deadline_applies({}, "2024-03-10", deadlines, now)[0]
    assert deadline_applies({}, "2024-03-11", deadlines, now)[0]
    assert not deadline_applies({}, "2024-03-09", deadlines, now)[0]  # manual re-run of an old date
    assert deadline_applies(arrived, "2024-02-01", deadlines, now)[0]  # a late file for an old date
    assert not deadline_applies({"dagster/backfill": "b1", **arrived}, "2024-03-10", deadlines, now)[0]


def test_a_manual_rerun_of_an_old_date_is_not_measured_by_the_deadline(recon_env, instance):  # noqa: F811
    generate_cli(recon_env, D1, 300)
    checks = check_results(run_day(instance, D1))
    for name in ("sla_publicacao", "publicada_no_prazo"):
        assert checks[name].passed and checks[name].metadata["aplica"].value is False
        assert checks[name].description.startswith("não se aplica: reexecução manual de 2024-03-10")
    late = check_results(
        run_day(instance, D1, tags={"recon/arquivo_chegou_em": datetime.now(tz=UTC).isoformat()})
    )
    assert (
        not late["publicada_no_prazo"].passed and late["publicada_no_prazo"].metadata["aplica"].value is True
    )


def test_the_asset_job_runs_in_process_like_the_daily_job():
    from reconciliation_assets.definitions import build_defs

    defs = build_defs()
    graph = defs.resolve_asset_graph()
    asset_job = defs.resolve_implicit_job_def_def_for_assets(list(graph.get_all_asset_keys()))
    assert asset_job.executor_def is dg.in_process_executor
    assert defs.resolve_job_def("daily_reconciliation").executor_def is dg.in_process_executor


# ---- a real webserver + daemon --------------------------------------------------------------------------
def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    resp = requests.post(
        f"http://{LOOPBACK}:{port}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
    )
    resp.raise_for_status()
    body = resp.json()
    assert "errors" not in body, body
    return body["data"]


def _launch(port: int, location: str, day: str, assets: list[str], tags: dict[str, str]) -> str:
    launched = _graphql(
        port,
        """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
            ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
        {
            "p": {
                "selector": {
                    "repositoryLocationName": location,
                    "repositoryName": "__repository__",
                    "jobName": "__ASSET_JOB",
                    "assetSelection": [{"path": [a]} for a in assets],
                },
                "executionMetadata": {
                    "tags": [{"key": k, "value": v} for k, v in {"dagster/partition": day, **tags}.items()]
                },
            }
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def _divergences_queued_before_their_inputs(port: int, location: str, day: str) -> list[dict]:
    """Submit D's divergences (with the backfill's retry tags) *before* D's earlier steps, as the
    backfill daemon sometimes does; return the failed run, its retry and the earlier steps' run."""
    retry_tags = {"dagster/max_retries": "2", "dagster/retry_on_asset_or_op_failure": "true"}
    first = _launch(port, location, day, ["divergencias", "pendencias"], retry_tags)
    upstream = _launch(port, location, day, ASSETS[:4], {})
    deadline = time.monotonic() + 240
    while True:
        found = _graphql(
            port,
            """query($d: String!) { runsOrError(filter: {tags: [{key: "dagster/partition", value: $d}]}) {
                ... on Runs { results { runId status tags { key value } } } } }""",
            {"d": day},
        )["runsOrError"]["results"]
        by_id = {r["runId"]: r for r in found}
        parent = {
            r["runId"]: {t["key"]: t["value"] for t in r["tags"]}.get("dagster/parent_run_id") for r in found
        }
        retries = [rid for rid, p in parent.items() if p == first]
        done = {"SUCCESS", "FAILURE", "CANCELED"}
        if retries and by_id[retries[0]]["status"] in done and by_id[upstream]["status"] in done:
            break
        assert time.monotonic() < deadline, found
        time.sleep(2)
    failure = _graphql(
        port,
        """query($id: ID!) { runOrError(runId: $id) { ... on Run { eventConnection(limit: 500) { events {
            __typename ... on ExecutionStepFailureEvent { error { message } } } } } } }""",
        {"id": first},
    )["runOrError"]["eventConnection"]["events"]
    why = " ".join(e["error"]["message"] for e in failure if e["__typename"] == "ExecutionStepFailureEvent")
    return [
        {"runId": first, "status": by_id[first]["status"], "why": why},
        {"runId": retries[0], "status": by_id[retries[0]]["status"], "parent": first},
        {"runId": upstream, "status": by_id[upstream]["status"]},
    ]


def _restore_signals() -> None:
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.slow  # dagster dev, a GraphQL backfill of five dates
def test_a_backfill_through_graphql_runs_in_process_and_equals_single_runs(recon_env, tmp_path):  # noqa: F811
    """Five dates backfilled as the UI does: oldest first (pendencias), equal to five single runs in order."""
    days = ["2024-03-10", "2024-03-11", "2024-03-12", "2024-03-13", "2024-03-14"]
    truths = {}
    for day in days:
        truths[day] = generate_cli(recon_env, day, 300)
    late_day = "2024-03-20"
    late_truth = generate_cli(recon_env, late_day, 300)
    truths = {d: json.loads((recon_env / f"ground_truth_{d}.json").read_text()) for d in days}
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = (ROOT / "dagster.yaml").read_text().replace("recon_data/dagster", str(home / "storage"))
    config = config.replace("poll_interval_seconds: 30", "poll_interval_seconds: 5")
    (home / "dagster.yaml").write_text(config)
    port = free_port()
    log = (tmp_path / "dagster_dev.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster")), "dev", "-w", str(ROOT / "workspace.yaml")]
        + ["-h", LOOPBACK, "-p", str(port)],
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_restore_signals,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                data = _graphql(
                    port,
                    "{ workspaceOrError { ... on Workspace { locationEntries { name "
                    "locationOrLoadError { __typename } } } } }",
                )
                entries = data["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation":
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (tmp_path / "dagster_dev.log").read_text()[-3000:]
            time.sleep(1)
        launched = _graphql(
            port,
            """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
                __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
            {
                "p": {
                    "partitionNames": days,
                    "assetSelection": [{"path": [a]} for a in ASSETS],
                    # As the README tells operators: Dagster may queue a date's divergences in a run
                    # of their own ahead of the run of its earlier steps; that run fails with a clear
                    # message and its retry (queued behind) succeeds.
                    "tags": [
                        {"key": "dagster/max_retries", "value": "2"},
                        {"key": "dagster/retry_on_asset_or_op_failure", "value": "true"},
                    ],
                }
            },
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]
        while True:
            bf = _graphql(
                port,
                """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
                    ... on PartitionBackfill { status runs(limit: 50) { runId status jobName tags { key value } } } } }""",
                {"id": backfill_id},
            )["partitionBackfillOrError"]
            if bf["status"] not in ("REQUESTED",):
                break
            assert time.monotonic() < deadline + 420, (tmp_path / "dagster_dev.log").read_text()[-3000:]
            time.sleep(2)
        assert bf["status"] == "COMPLETED_SUCCESS", bf
        runs = bf["runs"]
        # Every run succeeded, or failed only for want of its inputs and was retried.
        assert {r["status"] for r in runs} <= {"SUCCESS", "FAILURE"}
        failed = [r["runId"] for r in runs if r["status"] == "FAILURE"]
        retried = {t["value"] for r in runs for t in r["tags"] if t["key"] == "dagster/parent_run_id"}
        assert set(failed) <= retried, (failed, retried)
        assert {r["jobName"] for r in runs} == {"__ASSET_JOB"}
        # The self-dependency of pendencias may split a date over several runs (the daemon launches
        # D's divergences once D-1's pendencias exist); every date is covered.
        assert sorted({{t["key"]: t["value"] for t in r["tags"]}["dagster/partition"] for r in runs}) == days
        late_day_runs = _divergences_queued_before_their_inputs(port, entries[0]["name"], late_day)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    backfilled = {d: rows(recon_env, d) for d in days}
    backfilled_breaks = {d: breaks(recon_env, d) for d in days}
    # Oldest first: each date was computed from the previous date's published state.
    for before, day in zip(days, days[1:], strict=False):
        manifest = json.loads(
            (recon_env / f"output/_manifestos/data_referencia={day}/pendencias.json").read_text()
        )
        assert manifest["estado_anterior"]["data_referencia"] == before
        assert json.loads((recon_env / f"output/_manifestos/data_referencia={day}/cadeia.json").read_text())[
            "atual"
        ]
    situacoes = {s for d in days for s in {r[9] for r in backfilled_breaks[d]}}
    assert situacoes >= {"NOVA", "EM_ABERTO"}, situacoes
    with dg.DagsterInstance.from_config(str(home)) as inst:
        # No dagster/max_runtime tag on __ASSET_JOB runs: the instance's 20-minute default applies.
        assert inst.run_monitoring_enabled and inst.run_monitoring_max_runtime_seconds == 1200
        for r in runs:
            assert dg.MAX_RUNTIME_SECONDS_TAG not in inst.get_run_by_id(r["runId"]).tags
            events = [e.dagster_event for e in inst.all_logs(r["runId"]) if e.dagster_event]
            messages = [e.message or "" for e in events if e.event_type_value == "ENGINE_EVENT"]
            assert any(m.startswith("Executing steps in process") for m in messages), messages
            kinds = {e.event_type_value for e in events}
            assert "STEP_WORKER_STARTING" not in kinds and "STEP_WORKER_STARTED" not in kinds
            evaluations = {
                e.event_specific_data.check_name: e.event_specific_data
                for e in events
                if e.event_type_value == "ASSET_CHECK_EVALUATION"
            }
            for name in ("sla_publicacao", "publicada_no_prazo"):
                if name not in evaluations:
                    continue  # a run of this date that did not reach the publishing step
                ev = evaluations[name]
                assert ev.passed and ev.metadata["aplica"].value is False, ev
                assert ev.description.startswith(f"não se aplica: backfill {backfill_id}")
    for d in days:
        assert_matches_truth(recon_env, d, truths[d])
    # The race the README's backfill tags answer, forced: D's divergences queued ahead of D's earlier
    # steps fail with the explanation, and their retry, queued behind those steps, publishes D.
    failed, retry, upstream = late_day_runs
    assert failed["status"] == "FAILURE" and retry["status"] == upstream["status"] == "SUCCESS"
    assert "as entradas deste passo ainda não existem" in failed["why"]
    assert retry["parent"] == failed["runId"]
    assert_matches_truth(recon_env, late_day, late_truth)
    shutil.rmtree(recon_env / "output")
    with dg.instance_for_test() as inst:
        for d in days:
            assert run_day(inst, d).success
            assert rows(recon_env, d) == backfilled[d]
            assert breaks(recon_env, d) == backfilled_breaks[d]
