"""The steps hand their outputs on as typed Dagster inputs, so the lineage is what each step reads.

- every work-area parent of a step is an input the step receives (not a hand-written ``deps``);
- a step reaches only the files of the assets it declares (``day_paths.step_paths``);
- facts computed once upstream (coverage, arrival, sha256s) travel with the output, and an output
  whose files changed after it was registered is refused instead of paired with stale facts.
"""

from __future__ import annotations

import ast
import hashlib
import os
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from reconciliation_assets.day_paths import OWNER, DayPaths, UndeclaredInput, step_paths
from reconciliation_assets.work_area import OUTPUTS, ArquivosDoDia, TransacoesValidadas
from tests.receivers import matching_day, run_day, run_divergences_only, write_day

DAY = "2024-03-10"
ROOT = Path(__file__).resolve().parents[1]


def test_every_work_area_parent_is_an_input_the_step_receives():
    from reconciliation_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def("daily_reconciliation")
    inputs_of = {node.name: {i.name for i in node.input_defs} for node in job.graph.node_defs}
    step_of = {
        key.to_user_string(): defs.resolve_assets_def(key).node_def.name for key in graph.get_all_asset_keys()
    }
    received = {}
    for asset, step in step_of.items():
        parents = {k.to_user_string() for k in graph.get(dg.AssetKey(asset)).parent_keys}
        work_parents = {p for p in parents if p in OUTPUTS and step_of[p] != step}
        assert work_parents <= inputs_of[step], (asset, work_parents, inputs_of[step])
        received[asset] = work_parents
    assert received == {
        "arquivos_fornecedor": set(),
        "transacoes_validadas": {"arquivos_fornecedor"},
        "quarentena": {"arquivos_fornecedor"},
        "base_interna_snapshot": {"transacoes_validadas"},
        "divergencias": {
            "arquivos_fornecedor",
            "transacoes_validadas",
            "quarentena",
            "base_interna_snapshot",
        },
        "pendencias": set(),  # divergencias is its own step's; D-1's pendencias is read as published
        "resumo_conciliacao": {"divergencias"},
        "relatorio_diario": set(),  # reads what is published (the same queries as the dashboard)
    }
    # Each output of the work area goes through the work-area IO manager, typed.
    for node in job.graph.node_defs:
        for out in node.output_defs:
            if out.name in OUTPUTS:
                assert out.io_manager_key == "area_trabalho", (node.name, out.name)
    # Each file of the work area belongs to exactly one output type, or to the engine's shared cache.
    owned = {name: cls.ASSET for cls in OUTPUTS.values() for name in cls.FILES}
    assert all(OWNER[name] == asset for name, asset in owned.items())
    assert set(OWNER.values()) - {None} == set(OUTPUTS)


def test_asset_modules_reach_the_work_area_only_through_their_inputs():
    """No step builds D's paths itself: it gets them from ``step_files`` (inputs + own outputs), the
    one helper (assets/common.py) that builds the restricted view."""
    offenders = []
    modules = sorted((ROOT / "reconciliation_assets" / "assets").glob("*.py"))
    assert len(modules) == 9
    for module in modules:
        if module.name == "common.py":
            continue
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "for_date":
                offenders.append(f"{module.name}:{node.lineno}")
            if isinstance(node, ast.Name) and node.id == "DayPaths":
                offenders.append(f"{module.name}:{node.lineno}")
    assert offenders == []


def test_a_step_view_refuses_the_files_of_assets_it_does_not_declare(tmp_path):
    paths = step_paths(tmp_path, ["validacao_nao_existe", "transacoes_validadas", "arquivos_fornecedor"])
    assert paths.linhas == tmp_path / "linhas.parquet"
    assert paths.validadas == tmp_path / "validadas.parquet"
    assert paths.baldes == tmp_path / "baldes"  # the engine's cache: anyone's
    with pytest.raises(UndeclaredInput) as refused:
        _ = paths.base_interna
    assert str(refused.value) == (
        "base_interna.parquet pertence ao ativo base_interna_snapshot, que este passo não declara como "
        "entrada (entradas e saídas declaradas: arquivos_fornecedor, transacoes_validadas, validacao_nao_existe)"
    )
    # The unrestricted layout (checkpoint hooks, tests, benchmarks) reaches everything.
    assert DayPaths(tmp_path).base_interna == tmp_path / "base_interna.parquet"


def test_an_output_round_trips_its_facts_exactly(tmp_path):
    for name in ("linhas.parquet", "arquivos.parquet"):
        (tmp_path / name).write_bytes(b"x")
    arrived = 1710072000.123456
    out = ArquivosDoDia(tmp_path, linhas_fisicas=7, chegou_em=arrived, sha256={"b.csv": "bb", "a.csv": "aa"})
    out.register()
    loaded = ArquivosDoDia.load(tmp_path)
    assert loaded == out and loaded.missing() == []
    assert loaded.arrived_at == datetime.fromtimestamp(arrived, tz=UTC)
    # Never produced: marked, and every file it stands for is missing.
    absent = TransacoesValidadas.load(tmp_path)
    assert absent.recorded is None and absent.coverage == (None, None)
    assert absent.missing() == ["validadas.parquet", "estatisticas_linhas.parquet"]


def test_a_file_changed_after_its_output_was_registered_is_refused(tmp_path):
    (tmp_path / "validadas.parquet").write_bytes(b"rows")
    (tmp_path / "estatisticas_linhas.parquet").write_bytes(b"stats")
    out = TransacoesValidadas(tmp_path, linhas=1, cobertura_inicio="2024-03-01", cobertura_fim="2024-03-09")
    out.register()
    assert TransacoesValidadas.load(tmp_path).coverage == (date(2024, 3, 1), date(2024, 3, 9))
    (tmp_path / "validadas.parquet").write_bytes(b"other rows")
    assert TransacoesValidadas.load(tmp_path).missing() == ["validadas.parquet"]
    (tmp_path / "estatisticas_linhas.parquet").unlink()
    assert TransacoesValidadas.load(tmp_path).missing() == [
        "validadas.parquet",
        "estatisticas_linhas.parquet",
    ]


def test_the_coverage_is_computed_once_per_day_and_handed_on(recon_env, monkeypatch):
    """Only model cobertura.sql computes the file's coverage, and only validation runs it in the job:
    the snapshot and the divergences receive it (they used to compute it again)."""
    restated = [
        f"{p.relative_to(ROOT)}"
        for folder in ("reconciliation_assets", "resources", "checks", "dbt_like_sql")
        for p in sorted((ROOT / folder).rglob("*"))
        if p.suffix in (".py", ".sql") and "min(data)" in p.read_text(encoding="utf-8").lower()
    ]
    assert restated == ["dbt_like_sql/cobertura.sql"]
    from reconciliation_assets.engine.sql_models import ModelRunner

    runs = []
    materialize = ModelRunner.materialize

    def counting(self, model, params=None, relation=None):
        runs.append(model)
        return materialize(self, model, params, relation)

    monkeypatch.setattr(ModelRunner, "materialize", counting)
    lines, base = matching_day(DAY, 20)
    write_day(recon_env, DAY, lines, base)
    with dg.instance_for_test() as instance:
        assert run_day(instance, DAY).success
    assert runs.count("cobertura") == 1


def _published(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "output").rglob("*"))
        if p.is_file()
    }


def test_divergences_refuse_validated_rows_rewritten_after_validation(recon_env):
    """A validadas file replaced behind Dagster's back (another process, a hand edit) no longer matches
    the coverage and counts validation registered: the divergences step stops and publishes nothing."""
    lines, base = matching_day(DAY, 20)
    write_day(recon_env, DAY, lines, base)
    with dg.instance_for_test() as instance:
        assert run_day(instance, DAY).success
        registered = recon_env / "work" / f"data_referencia={DAY}" / "saidas"
        assert sorted(p.name for p in registered.iterdir()) == sorted(f"{a}.json" for a in OUTPUTS)
        facts = TransacoesValidadas.load(registered.parent)
        assert (facts.linhas, facts.coverage) == (20, (date(2024, 3, 9), date(2024, 3, 9)))
        before = _published(recon_env)
        validadas = registered.parent / "validadas.parquet"
        validadas.write_bytes(validadas.read_bytes())  # the same bytes, rewritten: another file
        os.utime(validadas, ns=(1, 1))
        result = run_divergences_only(instance, DAY)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.event_specific_data.user_failure_data.metadata["entradas_ausentes"].value == (
        "transacoes_validadas (validadas.parquet)"
    )
    assert _published(recon_env) == before
