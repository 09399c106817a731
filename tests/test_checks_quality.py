"""Every check of the day can fail: driven by crafted inputs through the real job where the inputs can
cause it, and by a simulated rule regression (a tampered intermediate) where only a bug could.
Blocking checks must stop the divergence table from being published."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import polars as pl
import pytest

from checks.deadlines import deadline_check, earlier_publications, sla_check
from checks.quality import (
    divergence_rate,
    quarantine_rate,
    validated_schema_check,
)
from reconciliation_assets.assets.common import ARRIVAL_TAG
from reconciliation_assets.contract import CONTRATO_DIVERGENCIAS, EXPECTATIVAS_DIVERGENCIAS
from resources.settings import Deadlines
from sensors.audit import auditoria_apos_publicacao
from tests.receivers import (
    check_results,
    local_day,
    matching_day,
    pin_clock,
    published,
    run_audit,
    run_day,
    write_day,
)

pytest_plugins = ["tests.receivers"]  # the loopback receivers and the day harness
DAY = "2024-03-10"
ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
ALL_CHECKS = {
    "contagem_linhas",
    "esquema_validadas",
    "taxa_quarentena",
    "ordem_id_unico_base",
    "saldo_explicado",
    "casamento_csv",
    "casamento_base",
    "plausibilidade",
    "contrato_divergencias",
    "taxa_divergencia",
    "sla_publicacao",
    "publicada_no_prazo",
    "cadeia_pendencias",
    "cadeia_atual",
    "catalogo_glue",
}


def meta(evaluation, key):
    value = evaluation.metadata[key]
    return getattr(value, "value", value)


def rewrite_parquet(path: Path, select_sql: str) -> None:
    """Replace a work-folder Parquet by ``select_sql`` over it (``{t}`` = the file): a rule regression."""
    tmp = path.with_name(path.stem + ".tampered.parquet")
    source = f"read_parquet('{path}', hive_partitioning = false)"
    duckdb.sql(f"COPY ({select_sql.format(t=source)}) TO '{tmp}' (FORMAT parquet)")
    os.replace(tmp, path)


# ---- the healthy day ----------------------------------------------------------------------------------
def test_a_healthy_day_passes_every_check_and_publishes(recon_env, instance, monkeypatch):
    day = local_day(pin_clock(monkeypatch))
    lines, base = matching_day(day, 40)
    write_day(recon_env, day, lines, base)
    result = run_day(instance, day)
    assert result.success
    checks = check_results(result)
    assert set(checks) == ALL_CHECKS
    assert {n for n, c in checks.items() if not c.passed} == set()
    contract = checks[CONTRATO_DIVERGENCIAS]
    assert (contract.severity, contract.blocking) == (ERROR, True)
    assert meta(contract, "expectativas") == meta(contract, "atendidas") == 33
    assert meta(contract, "linhas_verificadas") == 0  # every row of the (empty) table
    assert published(recon_env, "divergencias", day) and published(recon_env, "resumo_conciliacao", day)

    # The publication asks for its Great Expectations audit: a run of its own, after the day's run.
    tick = auditoria_apos_publicacao(dg.build_sensor_context(instance=instance))
    assert [(r.run_key, r.tags["dagster/partition"]) for r in tick.run_requests] == [
        (f"{day}@{result.run_id}", day)
    ]
    audit = run_audit(instance, day)
    assert audit.success
    ge = check_results(audit)[EXPECTATIVAS_DIVERGENCIAS]
    assert (ge.passed, ge.blocking, ge.partition) == (True, False, day)
    assert meta(ge, "expectativas") == meta(ge, "atendidas") == 33
    # Read back, the sensor has nothing new to request.
    again = auditoria_apos_publicacao(dg.build_sensor_context(instance=instance, cursor=tick.cursor))
    assert again.run_requests == []


# ---- non-blocking checks: they fail, alert, and the day is still published ------------------------------
def test_high_quarantine_and_divergence_rates_fail_without_blocking(recon_env, instance):
    lines, base = matching_day(DAY, 20)
    lines[0] = lines[0].rsplit(";", 1)[0] + ";R$ 10,00"  # INVALID_VALOR
    lines[1] = lines[1].rsplit(";", 1)[0] + ";1e3"  # INVALID_VALOR
    base = base[2:] + [("F9", f"X{i}", "Ana", "A1", date(2024, 3, 9), "1.00") for i in range(3)]  # 3 TIPO_2
    base = base[3:]  # and 3 validated lines the base does not know: TIPO_1
    write_day(recon_env, DAY, lines, base)
    result = run_day(instance, DAY)
    assert result.success
    checks = check_results(result)

    q = checks["taxa_quarentena"]
    assert (q.passed, q.severity, q.blocking) == (False, ERROR, False)
    assert meta(q, "taxa_quarentena") == pytest.approx(0.10)
    assert meta(q, "severidade_alerta") == "CRITICAL"
    assert meta(q, "por_motivo") == {"INVALID_VALOR": 2}

    d = checks["taxa_divergencia"]
    assert (d.passed, d.severity, d.blocking) == (False, WARN, False)
    assert meta(d, "taxa_divergencia") > 0.10
    assert meta(d, "severidade_alerta") == "MEDIUM"

    assert published(recon_env, "quarentena", DAY) and published(recon_env, "divergencias", DAY)
    mats = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert mats["quarentena"]["severidade_taxa_quarentena"].value == "CRITICAL"
    assert mats["divergencias"]["severidade_taxa_divergencia"].value == "MEDIUM"


def test_rate_limits_are_inclusive():
    assert quarantine_rate({"linhas_csv": 20, "linhas_quarentena": 1}, 0.05).passed  # exactly 5%
    assert not quarantine_rate({"linhas_csv": 100, "linhas_quarentena": 6}, 0.05).passed
    assert quarantine_rate({"linhas_csv": 0, "linhas_quarentena": 0}, 0.05).passed
    base = {"tipo_1": 1, "tipo_2": 0, "linhas_validas": 10, "linhas_base_escopo": 9}
    assert divergence_rate({**base, "taxa_divergencia": 0.10}, 0.10).passed
    assert not divergence_rate({**base, "taxa_divergencia": 0.1001}, 0.10).passed


# ---- blocking checks: nothing of the day is published after them ------------------------------------
def test_a_null_internal_valor_breaks_the_balance_and_blocks_publication(recon_env, instance):
    lines, base = matching_day(DAY, 10)
    base[0] = (*base[0][:5], None)  # the internal base lost a value: the books cannot close
    write_day(recon_env, DAY, lines, base)
    # The sensor's run (the file arrived now): the SLA and deadline checks apply to it.
    result = run_day(instance, DAY, tags={ARRIVAL_TAG: datetime.now(tz=UTC).isoformat()})
    assert not result.success
    checks = check_results(result)
    saldo = checks["saldo_explicado"]
    assert (saldo.passed, saldo.severity, saldo.blocking) == (False, ERROR, True)
    assert meta(saldo, "diferenca_nao_explicada") != "0.00"
    assert checks["casamento_csv"].passed and checks["casamento_base"].passed
    assert not published(recon_env, "divergencias", DAY)
    assert not published(recon_env, "resumo_conciliacao", DAY)
    # The SLA and deadline checks say the date was not published, they do not pretend it was.
    assert meta(checks["sla_publicacao"], "publicada") is False
    assert not checks["publicada_no_prazo"].passed


@pytest.mark.parametrize(
    ("check", "tamper"),
    [
        ("casamento_csv", lambda r: {**r, "tipo_1": r["tipo_1"] + 1}),
        ("casamento_base", lambda r: {**r, "linhas_base_escopo": r["linhas_base_escopo"] + 1}),
    ],
)
def test_matching_invariants_block_publication(recon_env, instance, monkeypatch, check, tamper):
    """A miscount in the divergence rules (simulated on the summary's facts) stops publication."""
    import reconciliation_assets.assets.divergences as module

    real = module.compute_divergences
    monkeypatch.setattr(module, "compute_divergences", lambda *a, **k: tamper(real(*a, **k)))
    lines, base = matching_day(DAY, 8)
    write_day(recon_env, DAY, lines, base)
    result = run_day(instance, DAY)
    assert not result.success
    failed = {n: c for n, c in check_results(result).items() if not c.passed and c.blocking}
    assert set(failed) == {check}
    assert failed[check].severity == ERROR
    assert not published(recon_env, "divergencias", DAY)


def test_line_accounting_blocks_everything_downstream(recon_env, instance, monkeypatch):
    import reconciliation_assets.assets.validated as module

    real = module.validate_day

    def lose_a_line(*a, **k):
        stats = real(*a, **k)
        return {**stats, "linhas_validas": stats["linhas_validas"] - 1}

    monkeypatch.setattr(module, "validate_day", lose_a_line)
    lines, base = matching_day(DAY, 8)
    write_day(recon_env, DAY, lines, base)
    result = run_day(instance, DAY)
    assert not result.success
    c = check_results(result)["contagem_linhas"]
    assert (c.passed, c.severity, c.blocking) == (False, ERROR, True)
    assert not published(recon_env, "quarentena", DAY)
    assert not published(recon_env, "divergencias", DAY)


def test_a_line_the_files_did_not_receive_fails_the_accounting_even_when_the_counts_add_up(
    recon_env, instance, monkeypatch
):
    """A regression in validadas.sql drops a valid line: the classification's counts still add up
    (one scan), but the rows written to the file do not, and nothing of D is published."""
    from reconciliation_assets.engine import sql_models

    real = sql_models.load_model

    def dropping(name: str) -> str:
        sql = real(name)
        return (
            sql.replace("where motivo is null", "where motivo is null and linha <> 3")
            if name == "validadas"
            else sql
        )

    monkeypatch.setattr(sql_models, "load_model", dropping)
    lines, base = matching_day(DAY, 8)
    write_day(recon_env, DAY, lines, base)
    result = run_day(instance, DAY)
    assert not result.success
    c = check_results(result)["contagem_linhas"]
    assert (c.passed, c.blocking) == (False, True)
    assert (
        meta(c, "linhas_csv"),
        meta(c, "linhas_validas_gravadas"),
        meta(c, "validas_mais_quarentena"),
    ) == (
        8,
        7,
        7,
    )
    assert not published(recon_env, "divergencias", DAY)


def test_pandera_schema_catches_a_validation_regression_and_blocks(recon_env, instance, monkeypatch):
    """The validated rows lose their contract (untrimmed nome, repeated ordem_id): nothing downstream runs."""
    import reconciliation_assets.assets.validated as module

    real = module.validate_day

    def regressed(paths, *a, **k):
        stats = real(paths, *a, **k)
        rewrite_parquet(
            paths.validadas,
            "SELECT * REPLACE (CASE WHEN linha = 2 THEN '  ' || nome ELSE nome END AS nome) FROM {t} "
            "UNION ALL (SELECT * REPLACE (999 AS linha) FROM {t} WHERE linha = 3)",
        )
        return stats

    monkeypatch.setattr(module, "validate_day", regressed)
    lines, base = matching_day(DAY, 8, nome="Maria Conceição Souza")
    write_day(recon_env, DAY, lines, base)
    result = run_day(instance, DAY)
    assert not result.success
    checks = check_results(result)
    schema = checks["esquema_validadas"]
    assert (schema.passed, schema.severity, schema.blocking) == (False, ERROR, True)
    by_check = meta(schema, "falhas_por_checagem")
    assert by_check.get("nome:aparado") == 1
    assert any(k.startswith("ordem_id:") for k in by_check)  # the repeated ordem_id
    examples = meta(schema, "exemplos")
    assert "***Souza" in examples and "Conceição" not in examples  # nome masked
    assert "divergencias" not in {
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
    }
    assert not published(recon_env, "divergencias", DAY)


def test_pandera_reports_types_nulls_and_the_date_window(tmp_path):
    path = tmp_path / "validadas.parquet"
    pl.DataFrame(
        {
            "fornecedor_id": ["F1", "F2", None],
            "ordem_id": ["O1", "O2", "O3"],
            "nome": ["Ana Lima", "Bia Reis", "Caio Prado"],
            "ativo_id": ["A1", "A1", "A1"],
            "data": [date(2024, 3, 9), date(2024, 3, 11), date(2024, 3, 1)],  # 03-11 is after D
            "valor": [1.5, 2.0, 3.0],  # floats: the contract is decimal(18,2)
            "arquivo": ["a.csv"] * 3,
            "linha": [2, 3, 4],
        }
    ).write_parquet(path)
    result = validated_schema_check(path, DAY, 31)
    assert not result.passed and result.severity == ERROR
    by_check = result.metadata["falhas_por_checagem"].value
    assert any(k.startswith("valor:") and "Decimal" in k for k in by_check)
    assert any(k.startswith("fornecedor_id:") and "null" in k for k in by_check)
    assert any(k.startswith("data:in_range") for k in by_check)


def test_the_contract_blocks_a_bad_divergence_table_on_every_row(recon_env, instance, monkeypatch):
    import reconciliation_assets.assets.divergences as module

    real = module.compute_divergences

    def regressed(paths, **k):
        resumo = real(paths, **k)
        rewrite_parquet(
            paths.divergencias,
            "SELECT * REPLACE ('URGENTE' AS severidade) FROM {t} UNION ALL (SELECT * FROM {t} LIMIT 1)",
        )
        return resumo

    monkeypatch.setattr(module, "compute_divergences", regressed)
    lines, base = matching_day(DAY, 10)
    base = base[:-2]  # two TIPO_1 rows so the table is not empty
    write_day(recon_env, DAY, lines, base)
    result = run_day(instance, DAY)
    assert not result.success
    checks = check_results(result)
    contract = checks[CONTRATO_DIVERGENCIAS]
    assert (contract.passed, contract.severity, contract.blocking) == (False, ERROR, True)
    failed = {(r["expectativa"], r["coluna"], r["inesperados"]) for r in meta(contract, "falhas_detalhe")}
    assert failed == {
        ("expect_column_values_to_be_in_set", "severidade", 2),  # the duplicate keeps its own
        ("expect_compound_columns_to_be_unique", "ordem_id,tipo_divergencia", 2),
    }
    assert meta(contract, "linhas_verificadas") == 3
    assert "expect_table_columns_to_match_ordered_list" in meta(contract, "resultados")
    assert checks["saldo_explicado"].passed  # the books balance: only the contract failed
    assert not published(recon_env, "divergencias", DAY)
    # Nothing was published, so there is nothing to audit.
    tick = auditoria_apos_publicacao(dg.build_sensor_context(instance=instance))
    assert tick.run_requests == []


def test_the_great_expectations_audit_fails_on_a_published_table_without_blocking(recon_env, instance):
    lines, base = matching_day(DAY, 10)
    write_day(recon_env, DAY, lines, base[:-2])
    assert run_day(instance, DAY).success
    # Something outside the pipeline damaged the published table (the audit exists for this).
    rewrite_parquet(
        recon_env / "output" / "divergencias" / f"data_referencia={DAY}" / "part-0.parquet",
        "SELECT * REPLACE ('URGENTE' AS severidade) FROM {t} UNION ALL (SELECT * FROM {t} LIMIT 1)",
    )
    audit = run_audit(instance, DAY)
    assert audit.success  # a failed audit is a failed check, alerted by alerta_checagens; the run is fine
    ge = check_results(audit)[EXPECTATIVAS_DIVERGENCIAS]
    assert (ge.passed, ge.severity, ge.blocking) == (False, ERROR, False)
    failed = {(r["expectativa"], r["coluna"]) for r in meta(ge, "falhas_detalhe")}
    assert failed == {
        ("expect_column_values_to_be_in_set", "severidade"),
        ("expect_compound_columns_to_be_unique", "ordem_id,tipo_divergencia"),
    }
    assert meta(ge, "linhas_amostra") == meta(ge, "linhas_total") == 3


def test_the_audit_of_an_unpublished_date_says_so(recon_env, instance):
    audit = run_audit(instance, DAY)
    ge = check_results(audit)[EXPECTATIVAS_DIVERGENCIAS]
    assert (ge.passed, ge.severity) == (False, WARN)
    assert ge.description == f"{DAY} não está publicada: não há tabela para auditar."
    assert meta(ge, "publicada") is False


# ---- time: the SLA and the per-date deadline ---------------------------------------------------------
def test_sla_breach_is_an_error_but_the_day_is_published(recon_env, instance, monkeypatch):
    lines, base = matching_day(DAY, 10)
    write_day(recon_env, DAY, lines, base)
    arrived = (pin_clock(monkeypatch) - timedelta(minutes=25)).isoformat()
    # The file's own run stopped at arrival + 20 min; an operator's re-execution publishes it late.
    result = run_day(
        instance, DAY, tags={ARRIVAL_TAG: arrived, "dagster/parent_run_id": "execucao-que-estourou"}
    )
    assert result.success
    sla = check_results(result)["sla_publicacao"]
    assert (sla.passed, sla.severity, sla.blocking) == (False, ERROR, False)
    assert meta(sla, "nivel") == "estouro" and meta(sla, "severidade_alerta") == "CRITICAL"
    assert meta(sla, "minutos_ate_publicacao") == 25.0  # the pinned clock: exactly
    assert published(recon_env, "divergencias", DAY)
    # One verdict: the published summary says what the check says, for the same instant and deadline.
    assert published_summary(recon_env)[:3] == (
        False,
        datetime.fromisoformat(arrived) + timedelta(minutes=20),
        datetime.fromisoformat(meta(sla, "publicada_em")),
    )


def published_summary(recon_env: Path) -> tuple:
    """(sla_cumprido, sla_prazo, finished_at) of DAY's published summary."""
    path = recon_env / "output" / "resumo_conciliacao" / f"data_referencia={DAY}" / "part-0.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    row = con.execute(
        "SELECT sla_cumprido, sla_prazo, date_trunc('second', finished_at) FROM read_parquet(?)", [str(path)]
    ).fetchall()[0]
    return tuple(row)


def test_a_late_rerun_keeps_the_first_on_time_verdict_in_the_summary_and_the_check(
    recon_env, instance, monkeypatch
):
    lines, base = matching_day(DAY, 10)
    write_day(recon_env, DAY, lines, base)
    # The clock an hour behind the event log: the first publication must be judged by the instant its
    # run recorded (publicada_em), not by the event's own time (which would make it 65 min late).
    pinned = datetime.now(tz=UTC).replace(microsecond=0) - timedelta(hours=1)
    arrived = pin_clock(monkeypatch, pinned) - timedelta(minutes=5)
    first = run_day(instance, DAY, tags={ARRIVAL_TAG: arrived.isoformat()})
    assert check_results(first)["sla_publicacao"].passed and published_summary(recon_env)[0] is True
    assert earlier_publications(instance, DAY) == [pinned]  # the run's own instant, not the event's
    # Re-run for a file that arrived 30 minutes ago: even the first publication came 30 min after it.
    later = arrived - timedelta(minutes=25)
    rerun = run_day(
        instance, DAY, tags={ARRIVAL_TAG: later.isoformat(), "dagster/parent_run_id": first.run_id}
    )
    sla = check_results(rerun)["sla_publicacao"]
    assert not sla.passed and meta(sla, "nivel") == "estouro"
    assert published_summary(recon_env)[0] is False
    # Re-run for the original arrival, long after it: the first publication's on-time verdict stands.
    again = run_day(
        instance, DAY, tags={ARRIVAL_TAG: arrived.isoformat(), "dagster/parent_run_id": first.run_id}
    )
    assert check_results(again)["sla_publicacao"].passed and published_summary(recon_env)[0] is True


def test_sla_levels_and_reruns():
    arrived = datetime(2024, 3, 11, 6, 0, tzinfo=UTC)
    at = lambda minutes: arrived + timedelta(minutes=minutes)  # noqa: E731
    kw = {"arrived_at": arrived, "sla_minutes": 20, "warn_minutes": 18}
    assert sla_check(published_at=at(18), earlier=[], **kw).passed
    warn = sla_check(published_at=at(19), earlier=[], **kw)
    assert (warn.passed, warn.severity, warn.metadata["nivel"].value) == (False, WARN, "aviso")
    breach = sla_check(published_at=at(21), earlier=[], **kw)
    assert (breach.passed, breach.severity, breach.metadata["nivel"].value) == (False, ERROR, "estouro")
    # A manual re-run an hour later keeps the first publication's verdict...
    assert sla_check(published_at=at(80), earlier=[at(10)], **kw).passed
    # ...but a publication from before this file arrived does not count.
    assert not sla_check(published_at=at(80), earlier=[at(-30)], **kw).passed


def test_deadline_is_per_date_and_counts_the_first_publication():
    deadlines = Deadlines()  # D+1 07:20 America/Sao_Paulo
    due = datetime(2024, 3, 11, 7, 20, tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert deadlines.deadline(DAY) == due
    on_time = deadline_check(data_referencia=DAY, deadlines=deadlines, published_at=due, earlier=[])
    late = deadline_check(
        data_referencia=DAY, deadlines=deadlines, published_at=due + timedelta(minutes=1), earlier=[]
    )
    rerun = deadline_check(
        data_referencia=DAY, deadlines=deadlines, published_at=due + timedelta(days=3), earlier=[due]
    )
    assert on_time.passed and rerun.passed
    assert (late.passed, late.severity, late.metadata["minutos_apos_prazo"].value) == (False, ERROR, 1.0)


def test_an_old_date_published_now_missed_its_deadline(recon_env, instance):
    lines, base = matching_day(DAY, 5)
    write_day(recon_env, DAY, lines, base)
    # Its file arrived only now (the sensor's run): a late file is a missed deadline.
    result = run_day(instance, DAY, tags={ARRIVAL_TAG: datetime.now(tz=UTC).isoformat()})
    assert result.success  # not blocking: late data is still published
    deadline = check_results(result)["publicada_no_prazo"]
    assert (deadline.passed, deadline.severity) == (False, ERROR)
    assert meta(deadline, "prazo") == "2024-03-11T07:20:00-03:00"
    assert published(recon_env, "divergencias", DAY)


# A divergence table that honours the contract, as SQL per column over `range(...) t(i)`.
CONTRACT_ROW = {
    "ordem_id": "'O' || i",
    "tipo_divergencia": "'TIPO_1'",
    "severidade": "'LOW'",
    "hash_linha": "repeat('a', 64)",
    "detalhes": "'campo=valor'",
    "job_id": "'run-1'",
    "timestamp": "TIMESTAMPTZ '2024-03-10 10:00:00+00'",
    "valor_csv": "1.50::DECIMAL(18,2)",
    "valor_base": "NULL::DECIMAL(18,2)",
    "valor_diferenca": "NULL::DECIMAL(19,2)",
}


def gate_on_table(tmp_path, rows: int, summary_sql: str, drop: str = "", **overrides: str):
    """``contract_gate`` on a table of ``rows`` rows (``CONTRACT_ROW`` with ``overrides``, without the
    column ``drop``; other columns NULL text) and a summary row selected by ``summary_sql``."""
    from checks.expectations import DIVERGENCIAS_COLUMNS, contract_gate
    from reconciliation_assets.engine.sql_models import EngineSettings

    values = {**CONTRACT_ROW, **overrides}
    select = ", ".join(f"{values.get(c, 'NULL::VARCHAR')} AS {c}" for c in DIVERGENCIAS_COLUMNS if c != drop)
    divergencias, resumo = tmp_path / "d.parquet", tmp_path / "r.parquet"
    duckdb.sql(f"COPY (SELECT {select} FROM range(1, {rows} + 1) t(i)) TO '{divergencias}' (FORMAT parquet)")
    duckdb.sql(f"COPY (SELECT {summary_sql}) TO '{resumo}' (FORMAT parquet)")
    return contract_gate(divergencias, resumo, "run-1", EngineSettings(temp_dir=str(tmp_path / "tmp")))


def test_the_contract_reports_a_missing_column_on_its_own_rules(tmp_path):
    """A table that lost a column fails the column rules, each on its own line; the others still run."""
    from checks.expectations import DIVERGENCIAS_COLUMNS

    result = gate_on_table(tmp_path, 1, "0.5 AS taxa_divergencia, 1 AS arquivos", drop="severidade")
    assert not result.passed
    failed = {
        (r["lote"], r["expectativa"], r["coluna"], r["inesperados"]) for r in meta(result, "falhas_detalhe")
    }
    missing = {(lote, e, c) for lote, e, c, n in failed if n == "coluna ausente"}
    assert ("divergencias", "expect_column_values_to_not_be_null", "severidade") in missing
    assert ("divergencias", "expect_column_values_to_be_in_set", "severidade") in missing
    assert (
        "divergencias",
        "expect_table_columns_to_match_ordered_list",
        ",".join(DIVERGENCIAS_COLUMNS[:3]),
        1,
    ) in failed
    # The summary lacks most counts: each is its own missing-column failure; the rate is checked.
    assert ("resumo", "expect_column_values_to_be_between", "linhas_csv") in missing
    assert not any(c == "taxa_divergencia" for _, _, c, _ in failed)
    assert meta(result, "linhas_verificadas") == 1


def test_a_new_deployment_audits_only_the_last_days_publications(recon_env, instance, monkeypatch):
    import sensors.audit

    monkeypatch.setattr(sensors.audit, "BATCH", 1)  # a history longer than one tick's read
    lines, base = matching_day(DAY, 5)
    write_day(recon_env, DAY, lines, base)
    assert run_day(instance, DAY).success and run_day(instance, DAY).success
    # The sensor's first tick (no cursor) two days after those publications: history is not
    # re-audited, and the cursor moves past all of it (not only past the first batch).
    pin_clock(monkeypatch, datetime.now(tz=UTC) + timedelta(days=2))
    first = auditoria_apos_publicacao(dg.build_sensor_context(instance=instance))
    assert first.run_requests == [] and first.cursor is not None
    again = auditoria_apos_publicacao(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert again.run_requests == [] and again.cursor == first.cursor
    # A later publication (the clock back to now) is audited.
    pin_clock(monkeypatch)
    assert run_day(instance, DAY).success
    second = auditoria_apos_publicacao(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert [r.run_key for r in second.run_requests] == [f"{DAY}@{second_run_id(instance)}"]


def second_run_id(instance) -> str:
    return instance.get_runs(limit=1)[0].run_id


def test_the_contract_gate_reads_every_row_not_a_sample(tmp_path):
    """One bad row at the end of 50,000 (a 20k sample would likely miss it) fails the gate, exactly."""
    from checks.expectations import GE_SAMPLE_ROWS

    rows = 50_000
    assert rows > 2 * GE_SAMPLE_ROWS
    counts = ", ".join(f"0 AS {c}" for c in ("arquivos", "linhas_csv", "linhas_validas", "linhas_quarentena"))
    result = gate_on_table(
        tmp_path,
        rows,
        f"0.5 AS taxa_divergencia, {counts}",
        severidade=f"CASE WHEN i = {rows} THEN 'URGENTE' ELSE 'LOW' END",
        data="DATE '2024-03-09'",
    )
    failed = [
        (r["lote"], r["expectativa"], r["coluna"], r["inesperados"], r["exemplos"])
        for r in meta(result, "falhas_detalhe")
        if r["inesperados"] != "coluna ausente"  # the toy summary lacks most counts
    ]
    assert failed == [("divergencias", "expect_column_values_to_be_in_set", "severidade", 1, "URGENTE")]
    assert meta(result, "linhas_verificadas") == rows
