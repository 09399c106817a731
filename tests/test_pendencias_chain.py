"""The chain of breaks through real Dagster runs: order, re-runs of a past date, dates out of order.

A later date is stale when the state it was computed from changed (a past date re-run with
another result, or a date published in a gap); the UI shows it on the partition's ``cadeia_atual``
check, and ``_manifestos/data_referencia=D/cadeia.json`` says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.event_api import PartitionKeyFilter

from tests.receivers import instance, matching_day, recon_env, run_day, write_day  # noqa: F401

D1, D2, D3, D4 = "2024-03-10", "2024-03-11", "2024-03-12", "2024-03-13"
CHECK = dg.AssetCheckKey(dg.AssetKey("pendencias"), "cadeia_atual")


BASE: dict[str, list[tuple]] = {}  # the internal base holds every date written so far


def day_with_breaks(root: Path, day: str, extra: list[str] = (), base: bool = True) -> None:
    """A healthy day (its own ordem_ids) plus X missing from the base (one TIPO_1), and ``extra`` lines."""
    lines, rows = matching_day(day, 20)
    lines = [line.replace(";O", f";O{day}-", 1) for line in lines]
    rows = [(r[0], f"O{day}-{r[1][1:]}", *r[2:]) for r in rows]
    BASE[str(root)] = [r for r in BASE.get(str(root), []) if not r[1].startswith(f"O{day}-")]
    if base:
        BASE[str(root)] += rows
    write_day(root, day, [*lines, f"F9;X;Bia;A9;{rows[0][4]};7.00", *extra], BASE[str(root)])


def breaks(root: Path, day: str) -> dict[tuple[str, str], tuple]:
    path = root / "output" / "pendencias" / f"data_referencia={day}" / "part-0.parquet"
    rel = duckdb.sql(
        f"SELECT ordem_id, tipo_divergencia, situacao, aberta_em::varchar, dias_em_aberto FROM read_parquet('{path}')"
    )
    return {(r[0], r[1]): r[2:] for r in rel.fetchall()}


def chain(root: Path, day: str) -> dict:
    return json.loads(
        (root / "output" / "_manifestos" / f"data_referencia={day}" / "cadeia.json").read_text()
    )


def latest_currency(inst: dg.DagsterInstance, day: str):
    records = inst.event_log_storage.get_asset_check_execution_history(
        CHECK, limit=1, partition_filter=PartitionKeyFilter(key=day)
    )
    return records[0].event.dagster_event.event_specific_data if records else None


def test_dates_in_order_then_a_past_date_rerun_makes_the_later_ones_stale_until_rerun(recon_env, instance):  # noqa: F811
    for day in (D1, D2, D3):
        day_with_breaks(recon_env, day)
        assert run_day(instance, day).success
    assert breaks(recon_env, D3)[("X", "TIPO_1")] == ("RECORRENTE", D1, 2)
    assert all(chain(recon_env, d)["atual"] for d in (D1, D2, D3))
    first_d3 = breaks(recon_env, D3)

    # Re-running D2 with the same inputs gives the same rows: D3 stays current (no false alarm).
    assert run_day(instance, D2).success
    assert chain(recon_env, D3)["atual"] and latest_currency(instance, D3).passed

    # D2 re-run after the supplier corrected its file: a new break Y. D3 was computed without it.
    day_with_breaks(recon_env, D2, extra=["F9;Y;Bia;A9;2024-03-10;3.00"])
    rerun = run_day(instance, D2)
    assert rerun.success
    mat = rerun.asset_materializations_for_node("divergencias")
    pend = next(m for m in mat if m.asset_key == dg.AssetKey("pendencias"))
    assert pend.metadata["datas_posteriores_desatualizadas"].value == D3
    assert pend.metadata["novas"].value == 1 and pend.metadata["recorrentes"].value == 1
    status = chain(recon_env, D3)
    assert status["atual"] is False and "o estado de 2024-03-11 mudou" in status["motivo"]
    stale = latest_currency(instance, D3)
    assert (stale.passed, stale.severity, stale.partition) == (False, dg.AssetCheckSeverity.WARN, D3)
    assert breaks(recon_env, D3) == first_d3  # nothing is rewritten behind the operator's back

    # D4 computed on the stale D3 says so in its own run (and is stale itself).
    day_with_breaks(recon_env, D4)
    d4 = run_day(instance, D4)
    assert d4.success
    own = [e.event_specific_data for e in d4.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    own = next(e for e in own if e.check_name == "cadeia_atual")
    assert not own.passed and "desatualizado" in own.description
    assert chain(recon_env, D4)["atual"] is False

    # Re-running D3 then D4 in order makes the chain current again, with Y carried.
    assert run_day(instance, D3).success
    assert chain(recon_env, D3)["atual"] and not chain(recon_env, D4)["atual"]
    assert breaks(recon_env, D3)[("Y", "TIPO_1")] == ("EM_ABERTO", D2, 1)
    assert run_day(instance, D4).success
    assert chain(recon_env, D4)["atual"] and latest_currency(instance, D4).passed
    assert breaks(recon_env, D4)[("Y", "TIPO_1")] == ("EM_ABERTO", D2, 2)


def test_a_date_published_in_a_gap_makes_the_next_date_stale(recon_env, instance):  # noqa: F811
    day_with_breaks(recon_env, D1)
    assert run_day(instance, D1).success
    day_with_breaks(recon_env, D3)
    assert run_day(instance, D3).success  # launched before D2: computed from D1's state
    assert breaks(recon_env, D3)[("X", "TIPO_1")] == ("RECORRENTE", D1, 2)
    manifest = json.loads(
        (recon_env / f"output/_manifestos/data_referencia={D3}/pendencias.json").read_text()
    )
    assert manifest["estado_anterior"]["data_referencia"] == D1
    assert chain(recon_env, D3)["atual"]

    day_with_breaks(recon_env, D2)
    assert run_day(instance, D2).success  # the gap is filled: D3's previous state is now D2's
    status = chain(recon_env, D3)
    assert status["atual"] is False
    assert (
        "calculada sobre o estado de 2024-03-10; o estado anterior agora é o de 2024-03-11"
        in status["motivo"]
    )
    assert not latest_currency(instance, D3).passed
    assert run_day(instance, D3).success
    assert chain(recon_env, D3)["atual"]
    assert (
        json.loads((recon_env / f"output/_manifestos/data_referencia={D3}/pendencias.json").read_text())[
            "estado_anterior"
        ]["data_referencia"]
        == D2
    )


def test_a_gated_day_publishes_no_breaks_and_the_chain_skips_it(recon_env, instance):  # noqa: F811
    day_with_breaks(recon_env, D1)
    assert run_day(instance, D1).success
    day_with_breaks(recon_env, D2, base=False)  # D2's internal rows are missing: the day is held
    assert not run_day(instance, D2).success
    assert not (recon_env / "output" / "pendencias" / f"data_referencia={D2}").exists()
    day_with_breaks(recon_env, D3)
    assert run_day(instance, D3).success
    assert breaks(recon_env, D3)[("X", "TIPO_1")] == ("RECORRENTE", D1, 2)  # from D1, the latest published
