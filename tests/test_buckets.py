"""Divergences and breaks by hash buckets of ordem_id (reconciliation_assets/engine/buckets.py).

A generated day run through the job with one bucket and with several publishes the same bytes, and a
run that fails after some buckets is resumed (Dagster's re-execution from failure) without computing
the finished buckets again, publishing what an uninterrupted run publishes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from reconciliation_assets.engine import buckets
from reconciliation_assets.generator import Scenario, generate
from tests.receivers import pin_clock
from tests.test_end_to_end import daily_job

DAY = "2024-03-10"
RUN_ID = "0b0c0d0e-0000-4000-8000-000000000001"
CLOCK = datetime(2024, 3, 11, 6, 0, tzinfo=UTC)
TABLES = ("divergencias", "pendencias", "quarentena")


def published(root: Path, table: str) -> Path:
    return root / "output" / table / f"data_referencia={DAY}" / "part-0.parquet"


def rows_in_file_order(root: Path, table: str) -> list[tuple]:
    return duckdb.sql(
        f"SELECT * EXCLUDE (job_id, timestamp) FROM read_parquet('{published(root, table)}')"
    ).fetchall()


def run(instance, run_id: str | None = None):
    return daily_job().execute_in_process(
        partition_key=DAY, instance=instance, raise_on_error=False, run_id=run_id
    )


@pytest.fixture
def day(recon_env):
    generate(
        Scenario(rows=20_000, data_referencia=date(2024, 3, 10)),
        recon_env / "ingress",
        recon_env / "base.duckdb",
    )
    return recon_env


def test_bucket_count_follows_the_size_unless_forced():
    assert buckets.bucket_count(0) == 1
    assert buckets.bucket_count(20_000) == 1
    assert buckets.bucket_count(10_000_000) == 3
    assert buckets.bucket_count(100_000_000) == 25
    assert buckets.bucket_count(20_000, forced=5) == 5


def test_forced_buckets_publish_byte_identical_tables_to_one_bucket(day, monkeypatch):
    # Same run id and clock in both runs, so even the run's stamp columns are equal.
    pin_clock(monkeypatch, CLOCK)
    digests, summaries = {}, {}
    for n in ("1", "4", "9"):  # one bucket; filtered views; split files (buckets.SPLIT_FROM)
        monkeypatch.setenv("RECON_DIVERGENCE_BUCKETS", n)
        with dg.instance_for_test() as instance:
            assert run(instance, RUN_ID).success
        digests[n] = {t: hashlib.sha256(published(day, t).read_bytes()).hexdigest() for t in TABLES}
        # The summary also holds the run's start, which differs between two runs.
        summaries[n] = duckdb.sql(
            f"SELECT * EXCLUDE (started_at) FROM read_parquet('{published(day, 'resumo_conciliacao')}')"
        ).fetchall()
        work = day / "work" / f"data_referencia={DAY}" / "baldes"
        assert len(list((work / "divergencias").glob("parte-*.parquet"))) == int(n)
    assert digests["1"] == digests["4"] == digests["9"]
    assert summaries["1"] == summaries["4"] == summaries["9"]
    resumo = duckdb.sql(f"SELECT diferenca_nao_explicada FROM '{published(day, 'resumo_conciliacao')}'")
    assert str(resumo.fetchall()[0][0]) == "0.00"
    # The divergences are spread over the buckets (the 9-bucket run really split the day).
    sizes = [
        buckets.parquet_rows(p)
        for p in sorted((day / "work" / f"data_referencia={DAY}" / "baldes" / "divergencias").glob("parte-*"))
    ]
    assert (
        len(sizes) == 9
        and min(sizes) > 0
        and sum(sizes) == buckets.parquet_rows(published(day, "divergencias"))
    )


def daily_job_with_buckets():
    """Its own reconstructable target: Dagster caches a reconstructed job per function in the
    process, and this one is built while RECON_DIVERGENCE_BUCKETS is set (an EnvVar in its config)."""
    return daily_job()


@pytest.mark.parametrize("n", [4, 8])  # filtered views; split files (buckets.SPLIT_FROM)
def test_a_resumed_run_skips_the_buckets_already_done(day, monkeypatch, n):
    monkeypatch.setenv("RECON_DIVERGENCE_BUCKETS", str(n))
    computed: list[tuple[str, int]] = []

    def fail_in_bucket_2(name: str, bucket: int) -> None:
        computed.append((name, bucket))
        if (name, bucket) == ("divergencias", 2):
            raise RuntimeError("falha injetada no balde 2")

    monkeypatch.setattr(buckets, "after_bucket", fail_in_bucket_2)
    parts = day / "work" / f"data_referencia={DAY}" / "baldes" / "divergencias"
    with dg.instance_for_test() as instance:
        first = dg.execute_job(
            dg.reconstructable(daily_job_with_buckets), instance, tags={"dagster/partition": DAY}
        )
        assert not first.success
        assert computed == [("divergencias", 0), ("divergencias", 1), ("divergencias", 2)]
        assert not published(day, "divergencias").exists()
        done_before = {p.name: p.stat().st_mtime_ns for p in parts.glob("parte-*.parquet")}
        assert sorted(done_before) == ["parte-00000.parquet", "parte-00001.parquet", "parte-00002.parquet"]
        checkpoint = json.loads((day / "checkpoints" / first.run_id / "checkpoint.json").read_text())
        assert checkpoint["error_details"]["stage"] == "divergencias"
        assert checkpoint["progress"]["completed_buckets"] == {
            "divergencias": {"buckets": n, "completed": 3},
            **({"entrada_base_interna": {"buckets": n, "completed": 1}} if n >= buckets.SPLIT_FROM else {}),
            **({"entrada_validadas": {"buckets": n, "completed": 1}} if n >= buckets.SPLIT_FROM else {}),
        }

        computed.clear()
        monkeypatch.setattr(buckets, "after_bucket", lambda name, bucket: computed.append((name, bucket)))
        second = dg.execute_job(
            dg.reconstructable(daily_job_with_buckets),
            instance,
            reexecution_options=dg.ReexecutionOptions.from_failure(first.run_id, instance),
            tags={"dagster/partition": DAY},
        )
        assert second.success
        started = sorted(e.step_key for e in second.all_events if e.event_type_value == "STEP_START")
        assert started == ["divergencias", "relatorio_diario", "resumo_conciliacao"]
        # Buckets 0-2 were recorded before the failure and are reused as they are; only 3 is computed.
        assert [c for c in computed if c[0] == "divergencias"] == [("divergencias", k) for k in range(3, n)]
        assert [c for c in computed if c[0] == "pendencias"] == [("pendencias", k) for k in range(n)]
        assert {p: parts.joinpath(p).stat().st_mtime_ns for p in done_before} == done_before
        resumed = {t: rows_in_file_order(day, t) for t in ("divergencias", "pendencias")}
        stamped = duckdb.sql(
            f"SELECT DISTINCT job_id FROM read_parquet('{published(day, 'divergencias')}')"
        ).fetchall()
        assert stamped == [(second.run_id,)]  # reused parts carry the publishing run's stamp

        # An uninterrupted run from scratch publishes the same rows in the same order.
        computed.clear()
        fresh = run(instance)
        assert fresh.success
        assert [c for c in computed if c[0] == "divergencias"] == [("divergencias", k) for k in range(n)]
    assert {t: rows_in_file_order(day, t) for t in resumed} == resumed
    resumo = duckdb.sql(f"SELECT diferenca_nao_explicada FROM '{published(day, 'resumo_conciliacao')}'")
    assert str(resumo.fetchall()[0][0]) == "0.00"


def test_a_bucket_part_that_no_longer_matches_its_record_is_computed_again(tmp_path):
    folder = tmp_path / "partes"
    ledger = buckets.Ledger(folder, {"n": 2})
    part = folder / "parte-00000.parquet"
    duckdb.sql(f"COPY (SELECT 1 AS ordem_id) TO '{part}' (FORMAT parquet)")
    ledger.record("balde=0", [part])
    assert buckets.Ledger(folder, {"n": 2}).done("balde=0", [part])
    duckdb.sql(f"COPY (SELECT 2 AS ordem_id) TO '{part}' (FORMAT parquet)")  # same rows, other content
    assert not buckets.Ledger(folder, {"n": 2}).done("balde=0", [part])
    # Another fingerprint (other inputs or N) discards the ledger and its parts.
    assert not buckets.Ledger(folder, {"n": 3}).done("balde=0", [part])
    assert not part.exists()


@pytest.mark.parametrize("n", ["1", "4"])
def test_the_unique_internal_id_check_finds_the_same_repeats_by_bucket(recon_env, monkeypatch, n):
    from tests.chain import HEADER, make_base

    monkeypatch.setenv("RECON_DIVERGENCE_BUCKETS", n)
    folder = recon_env / "ingress" / DAY
    folder.mkdir(parents=True)
    ids = [f"O{i}" for i in range(1, 9)]
    (folder / "a.csv").write_text(HEADER + "\n" + "".join(f"F1;{o};Ana;A1;2024-03-09;1\n" for o in ids))
    ref = date(2024, 3, 9)
    base = [("F1", o, "Ana", "A1", ref, 1) for o in ids]
    base += [("F1", o, "Ana", "A1", ref, 1) for o in ("O7", "O2", "O5", "O3", "O8", "O1")]  # six repeated
    base += [("F1", None, "Ana", "A1", ref, 1)]
    make_base(recon_env / "base.duckdb", base)
    with dg.instance_for_test() as instance:
        result = run(instance)
    assert not result.success
    check = next(
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == "ordem_id_unico_base"
    )
    assert not check.passed
    meta = {k: v.value for k, v in check.metadata.items()}
    assert meta["duplicados_exemplo"] == "<nulo>, O1, O2, O3, O5"
    assert (meta["ordem_ids_repetidos"], meta["ordem_ids_nulos"], meta["ordem_ids_distintos"]) == (6, 1, 8)


def test_a_count_leaves_the_connection_free_for_the_next_registration(tmp_path):
    """DuckDB 2 refuses register() while a result is unfinished: a resumed run whose buckets were all
    recorded goes from the coverage's count straight to the combine's register (seen failing)."""
    import pyarrow as pa

    from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner

    with ModelRunner(EngineSettings(temp_dir=str(tmp_path))) as runner:
        runner.con.execute("CREATE TABLE t AS SELECT 1 AS a")
        assert runner.count("t") == 1
        runner.register_arrow("depois", pa.table({"a": [2]}))
        assert runner.query("SELECT a FROM depois") == [(2,)]
