"""Breaks across dates (SPEC 5.4): each row of the rule table, its example, gaps and re-openings.

Each day is run through the same step functions the assets call (tests/chain.py), then the
``pendencias`` model carries the previous day's published state forward.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest

from reconciliation_assets.breaks import PreviousState, compute_breaks
from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.engine.sql_models import EngineSettings, ModelRunner
from tests.chain import csv, read_rows, run_day

MATCHED = 4  # healthy rows per day, so every day has a scope besides the breaks under test


def _ref(day: str) -> date:
    return date.fromisoformat(day) - timedelta(days=1)


def healthy(day: str) -> tuple[list[str], list[tuple]]:
    ref = _ref(day)
    lines = [f"F1;OK-{day}-{i};Ana;A1;{ref};{i}.00" for i in range(MATCHED)]
    base = [("F1", f"OK-{day}-{i}", "Ana", "A1", ref, f"{i}.00") for i in range(MATCHED)]
    return lines, base


class Chain:
    """Runs dates in order, each from the previous computed date's ``pendencias``."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.previous = PreviousState()
        self.facts: dict[str, dict] = {}

    def day(self, day: str, lines: list[str], base: list[tuple]) -> dict[str, dict]:
        ok_lines, ok_base = healthy(day)
        root = self.tmp / day
        run_day(root, {"t.csv": csv(*ok_lines, *lines)}, [*ok_base, *base], day=day)
        paths = DayPaths.for_date(root / "work", day)
        engine = EngineSettings(memory_limit="256MB", threads=1, temp_dir=str(root / "tmp"))
        self.facts[day] = compute_breaks(paths, day, self.previous, job_id=f"job-{day}", engine=engine)
        self.previous = PreviousState(data_referencia=day, local_file=paths.pendencias)
        return {
            (r["ordem_id"], r["tipo_divergencia"]): r for r in read_rows(paths.pendencias, "pendencia_id")
        }


def X_line(day: str, valor: str = "10.00", ordem: str = "X") -> str:
    return f"F9;{ordem};Bia;A9;{_ref(day)};{valor}"


def X_base(day: str, valor: str = "10.00", ordem: str = "X") -> tuple:
    return ("F9", ordem, "Bia", "A9", _ref(day), valor)


def pid(ordem: str, tipo: str) -> str:
    return hashlib.sha256(f"{ordem}|{tipo}".encode()).hexdigest()


D = date.fromisoformat


def test_spec_example_new_recurring_open_then_resolved_and_a_new_break(tmp_path):
    chain = Chain(tmp_path)
    d1 = chain.day("2024-03-01", [X_line("2024-03-01")], [])
    assert list(d1) == [("X", "TIPO_1")]
    x = d1[("X", "TIPO_1")]
    assert (
        x["situacao"],
        x["aberta_em"],
        x["vista_em"],
        x["resolvida_em"],
        x["dias_em_aberto"],
        x["faixa_idade"],
    ) == (
        "NOVA",
        D("2024-03-01"),
        D("2024-03-01"),
        None,
        0,
        "0-1",
    )
    assert x["pendencia_id"] == pid("X", "TIPO_1") and x["job_id"] == "job-2024-03-01"
    assert (x["fornecedor_id"], x["severidade"], str(x["valor_csv"]), x["valor_base"]) == (
        "F9",
        "HIGH",
        "10.00",
        None,
    )

    d2 = chain.day("2024-03-02", [X_line("2024-03-02")], [])
    x = d2[("X", "TIPO_1")]
    assert (x["situacao"], x["aberta_em"], x["vista_em"], x["dias_em_aberto"]) == (
        "RECORRENTE",
        D("2024-03-01"),
        D("2024-03-02"),
        1,
    )

    # 03-03: the file does not hold X and the base still lacks it: not compared, still open.
    d3 = chain.day("2024-03-03", [], [])
    x = d3[("X", "TIPO_1")]
    assert (
        x["situacao"],
        x["aberta_em"],
        x["vista_em"],
        x["resolvida_em"],
        x["dias_em_aberto"],
        x["faixa_idade"],
    ) == (
        "EM_ABERTO",
        D("2024-03-01"),
        D("2024-03-02"),
        None,
        2,
        "2-7",
    )
    assert x["job_id"] == "job-2024-03-03"

    # 03-04: X again, and the base now holds X with another valor.
    d4 = chain.day("2024-03-04", [X_line("2024-03-04", "10.00")], [X_base("2024-03-04", "12.50")])
    assert sorted(d4) == [("X", "TIPO_1"), ("X", "TIPO_3_VALOR")]
    resolved, new = d4[("X", "TIPO_1")], d4[("X", "TIPO_3_VALOR")]
    assert (resolved["situacao"], resolved["aberta_em"], resolved["vista_em"], resolved["resolvida_em"]) == (
        "RESOLVIDA",
        D("2024-03-01"),
        D("2024-03-02"),
        D("2024-03-04"),
    )
    assert (resolved["dias_em_aberto"], resolved["faixa_idade"], str(resolved["valor_csv"])) == (
        3,
        "2-7",
        "10.00",
    )
    assert (new["situacao"], new["aberta_em"], new["vista_em"], new["dias_em_aberto"]) == (
        "NOVA",
        D("2024-03-04"),
        D("2024-03-04"),
        0,
    )
    assert (
        str(new["valor_csv"]),
        str(new["valor_base"]),
        str(new["valor_diferenca"]),
        new["severidade"],
    ) == (
        "10.00",
        "12.50",
        "-2.50",
        "MEDIUM",
    )
    assert new["detalhes"].startswith("campo=valor;")
    facts = chain.facts["2024-03-04"]
    assert (facts["novas"], facts["resolvidas"], facts["abertas"], facts["abertas_antes"]) == (1, 1, 1, 1)
    assert (
        facts["antes_sem_uma_linha"],
        facts["divergencias_sem_uma_abertura"],
        facts["pendencia_id_repetido"],
    ) == (0, 0, 0)
    assert str(facts["valor_em_aberto"]) == "2.50"


def test_a_resolved_break_is_published_once_and_a_recurrence_is_a_new_opening(tmp_path):
    chain = Chain(tmp_path)
    chain.day("2024-03-01", [X_line("2024-03-01")], [])
    d2 = chain.day("2024-03-02", [X_line("2024-03-02")], [X_base("2024-03-02")])  # the base caught up
    assert d2[("X", "TIPO_1")]["situacao"] == "RESOLVIDA"
    assert d2[("X", "TIPO_1")]["resolvida_em"] == D("2024-03-02")
    d3 = chain.day("2024-03-03", [], [])  # resolved and not diverging: not published any more
    assert ("X", "TIPO_1") not in d3
    d4 = chain.day("2024-03-04", [X_line("2024-03-04", ordem="X")], [])  # X missing from the base again
    x = d4[("X", "TIPO_1")]
    assert (x["situacao"], x["aberta_em"], x["dias_em_aberto"], x["resolvida_em"]) == (
        "NOVA",
        D("2024-03-04"),
        0,
        None,
    )


def test_resolved_then_diverging_the_next_day_reopens_on_that_day(tmp_path):
    chain = Chain(tmp_path)
    chain.day("2024-03-01", [X_line("2024-03-01")], [])
    chain.day("2024-03-02", [X_line("2024-03-02")], [X_base("2024-03-02")])
    d3 = chain.day("2024-03-03", [X_line("2024-03-03")], [])
    assert (d3[("X", "TIPO_1")]["situacao"], d3[("X", "TIPO_1")]["aberta_em"]) == ("NOVA", D("2024-03-03"))


def test_a_valor_difference_that_changes_keeps_the_identity_and_takes_the_latest_values(tmp_path):
    chain = Chain(tmp_path)
    d1 = chain.day("2024-03-01", [X_line("2024-03-01", "10.00")], [X_base("2024-03-01", "9.00")])
    d2 = chain.day("2024-03-02", [X_line("2024-03-02", "10.00")], [X_base("2024-03-02", "8000.00")])
    first, second = d1[("X", "TIPO_3_VALOR")], d2[("X", "TIPO_3_VALOR")]
    assert first["pendencia_id"] == second["pendencia_id"] == pid("X", "TIPO_3_VALOR")
    assert (str(first["valor_diferenca"]), first["severidade"]) == ("1.00", "MEDIUM")
    assert (second["situacao"], second["aberta_em"], second["vista_em"]) == (
        "RECORRENTE",
        D("2024-03-01"),
        D("2024-03-02"),
    )
    assert (str(second["valor_base"]), str(second["valor_diferenca"]), second["severidade"]) == (
        "8000.00",
        "-7990.00",
        "HIGH",
    )
    assert "valor_base=8000.00" in second["detalhes"]
    # An open break that is not compared again keeps the latest values it was seen with.
    d3 = chain.day("2024-03-03", [], [])
    assert (d3[("X", "TIPO_3_VALOR")]["situacao"], str(d3[("X", "TIPO_3_VALOR")]["valor_diferenca"])) == (
        "EM_ABERTO",
        "-7990.00",
    )


def test_a_day_without_a_file_does_not_break_the_chain_and_ages_count_calendar_days(tmp_path):
    chain = Chain(tmp_path)
    chain.day("2024-03-01", [X_line("2024-03-01"), X_line("2024-03-01", ordem="Y")], [])
    # 03-02 and 03-03 had no file (a weekend): the next state comes from 03-01.
    d4 = chain.day("2024-03-04", [X_line("2024-03-04")], [])
    assert (d4[("X", "TIPO_1")]["situacao"], d4[("X", "TIPO_1")]["dias_em_aberto"]) == ("RECORRENTE", 3)
    assert (d4[("Y", "TIPO_1")]["situacao"], d4[("Y", "TIPO_1")]["dias_em_aberto"]) == ("EM_ABERTO", 3)
    assert d4[("Y", "TIPO_1")]["vista_em"] == D("2024-03-01")


def test_the_first_date_ever_opens_every_divergence_as_new(tmp_path):
    chain = Chain(tmp_path)
    d1 = chain.day(
        "2024-03-01",
        [X_line("2024-03-01"), X_line("2024-03-01", "5.00", ordem="V")],
        [X_base("2024-03-01", "5.01", ordem="V"), ("F7", "Z", "Caio", "A7", _ref("2024-03-01"), "3.00")],
    )
    assert sorted(d1) == [("V", "TIPO_3_VALOR"), ("X", "TIPO_1"), ("Z", "TIPO_2")]
    assert {r["situacao"] for r in d1.values()} == {"NOVA"}
    facts = chain.facts["2024-03-01"]
    assert (facts["pendencias"], facts["novas"], facts["abertas_antes"], facts["divergencias"]) == (
        3,
        3,
        0,
        3,
    )
    assert str(facts["valor_em_aberto"]) == "13.01"  # 10.00 (TIPO_1) + 3.00 (TIPO_2) + 0.01


def test_an_internal_only_break_resolves_when_the_file_brings_it(tmp_path):
    chain = Chain(tmp_path)
    chain.day("2024-03-01", [], [("F7", "Z", "Caio", "A7", _ref("2024-03-01"), "3.00")])
    d2 = chain.day(
        "2024-03-02",
        [f"F7;Z;Caio;A7;{_ref('2024-03-01')};3.00"],
        [("F7", "Z", "Caio", "A7", _ref("2024-03-01"), "3.00")],
    )
    assert (d2[("Z", "TIPO_2")]["situacao"], d2[("Z", "TIPO_2")]["resolvida_em"]) == (
        "RESOLVIDA",
        D("2024-03-02"),
    )


@pytest.mark.parametrize(
    ("dias", "faixa"),
    [(0, "0-1"), (1, "0-1"), (2, "2-7"), (7, "2-7"), (8, "8-30"), (30, "8-30"), (31, ">30")],
)
def test_age_bands_are_inclusive_at_their_upper_edge(tmp_path, dias, faixa):
    with ModelRunner(EngineSettings(temp_dir=str(tmp_path))) as runner:
        assert runner.query("SELECT faixa_idade($d)", {"d": dias})[0][0] == faixa


def test_the_chain_facts_catch_a_dropped_carried_break_and_a_doubled_one(tmp_path):
    """What cadeia_pendencias compares: a rule regression that loses or doubles a break is counted."""
    from reconciliation_assets.engine.sql_models import load_model

    chain = Chain(tmp_path)
    chain.day("2024-03-01", [X_line("2024-03-01"), X_line("2024-03-01", ordem="Y")], [])
    d1 = DayPaths.for_date(tmp_path / "2024-03-01" / "work", "2024-03-01").pendencias
    chain.day("2024-03-02", [X_line("2024-03-02")], [])
    d2 = DayPaths.for_date(tmp_path / "2024-03-02" / "work", "2024-03-02")
    with ModelRunner(EngineSettings(temp_dir=str(tmp_path / "tmp"))) as runner:
        runner.register_parquet("pendencias_anteriores", d1)
        runner.register_parquet("divergencias", d2.divergencias)
        runner.con.execute(
            f"CREATE TEMP VIEW pendencias AS SELECT * FROM read_parquet('{d2.pendencias}') WHERE ordem_id <> 'Y'"
            f" UNION ALL SELECT * FROM read_parquet('{d2.pendencias}') WHERE ordem_id = 'X'"
        )
        facts = runner.query_dicts(load_model("pendencias_resumo"))[0]
    assert (facts["abertas_antes"], facts["antes_sem_uma_linha"]) == (2, 2)  # Y lost, X doubled
    assert (facts["divergencias_sem_uma_abertura"], facts["pendencia_id_repetido"]) == (1, 1)
    assert chain.facts["2024-03-02"]["antes_sem_uma_linha"] == 0  # the real model: nothing lost


def test_a_broken_chain_blocks_the_whole_date(recon_env, instance, monkeypatch):
    """A miscount in the pendencias rules (simulated on its facts) stops D's publication, every table."""
    import reconciliation_assets.assets.divergences as module
    from tests.receivers import check_results, matching_day, published, write_day
    from tests.receivers import run_day as run_job

    real = module.compute_breaks
    monkeypatch.setattr(module, "compute_breaks", lambda *a, **k: {**real(*a, **k), "antes_sem_uma_linha": 1})
    lines, base = matching_day("2024-03-10", 8)
    write_day(recon_env, "2024-03-10", lines, base)
    result = run_job(instance, "2024-03-10")
    assert not result.success
    check = check_results(result)["cadeia_pendencias"]
    assert (check.passed, check.blocking) == (False, True)
    assert check.metadata["abertas_anteriores_sem_exatamente_uma_linha"].value == 1
    for table in ("quarentena", "divergencias", "pendencias", "resumo_conciliacao"):
        assert not published(recon_env, table, "2024-03-10"), table
