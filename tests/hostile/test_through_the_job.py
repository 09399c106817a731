"""A handful of hostile days through the whole Dagster job: each bad input is one clear, non-retried
failure naming the file (or a failed blocking check), and extreme but valid values are published."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb

from checks.invariants import unique_internal_ids
from tests.chain import HEADER, csv, make_base
from tests.receivers import check_results, published, run_audit, run_day

pytest_plugins = ["tests.receivers"]
DAY = "2024-03-10"
REF = date(2024, 3, 9)
MAX = "9999999999999999.99"
# These tiny days are all divergence by design: released past the plausibility gate, as an operator would.
RELEASED = {"recon/publicar_mesmo_assim": "true"}


def _write(root, content: bytes, base_rows: list[tuple]) -> None:
    folder = root / "ingress" / DAY
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "transacoes.csv").write_bytes(content)
    make_base(root / "base.duckdb", base_rows)


def _failure(result):
    assert not result.success
    types = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in types  # a user-input error is never retried
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1
    return failures[0].event_specific_data.error.message


def test_cr_only_file_is_one_clear_failure_naming_the_file(recon_env, instance):
    _write(recon_env, (HEADER + "\rF1;O1;Ana;A1;2024-03-09;1.00\r").encode(), [])
    message = _failure(run_day(instance, DAY))
    assert "transacoes.csv: fim de linha só com CR" in message
    assert "_csv.Error" not in message and "Traceback" not in message
    assert not (recon_env / "output").exists()


def test_utf16_file_is_one_clear_failure_naming_the_file(recon_env, instance):
    _write(recon_env, csv("F1;O1;Ana;A1;2024-03-09;1.00").encode("utf-16"), [])
    message = _failure(run_day(instance, DAY))
    assert "transacoes.csv: parece UTF-16" in message and "envie UTF-8 ou Windows-1252" in message


def test_file_without_header_is_rejected_without_echoing_the_row(recon_env, instance):
    _write(recon_env, b"F1;O1;Maria Sigilosa Souza;A1;2024-03-09;1.00\n", [])
    message = _failure(run_day(instance, DAY))
    assert "transacoes.csv" in message and "nenhuma coluna obrigatória reconhecida" in message
    assert "Cabeçalho lido" not in message
    for secret in ("Maria", "Sigilosa", "Souza", "2024-03-09"):
        assert secret not in message


def test_values_at_the_decimal_limits_are_published_exactly(recon_env, instance):
    lines = [
        f"F1;O1;Ana;A1;2024-03-09;{MAX}",
        f"F1;O2;Bia;A1;2024-03-09;{MAX}",
        f"F1;O3;Caio;A1;2024-03-09;-{MAX}",
    ]
    base = [("F1", "O1", "Ana", "A1", REF, MAX), ("F1", "O2", "Bia", "A1", REF, "-" + MAX)]
    _write(recon_env, csv(*lines).encode(), base)
    result = run_day(instance, DAY, tags=RELEASED)
    checks = check_results(result)
    assert result.success, {k: c.passed for k, c in checks.items()}
    assert checks["contrato_divergencias"].passed and checks["saldo_explicado"].passed
    rows = duckdb.sql(
        f"SELECT ordem_id, tipo_divergencia, valor_csv, valor_base, valor_diferenca, detalhes, typeof(valor_diferenca) "
        f"FROM read_parquet('{recon_env}/output/divergencias/*/*.parquet') ORDER BY ALL"
    ).fetchall()
    assert rows == [
        (
            "O2",
            "TIPO_3_VALOR",
            Decimal(MAX),
            Decimal("-" + MAX),
            Decimal("19999999999999999.98"),
            f"campo=valor; valor_csv={MAX}; valor_base=-{MAX}; diferenca=19999999999999999.98",
            "DECIMAL(19,2)",
        ),
        (
            "O3",
            "TIPO_1",
            Decimal("-" + MAX),
            None,
            None,
            "campo=ordem_id; ordem_id=O3; presente_em=csv; ausente_em=base",
            "DECIMAL(19,2)",
        ),
    ]


def test_null_internal_ordem_ids_fail_the_blocking_check(recon_env, instance):
    base = [
        ("F1", "O1", "Ana", "A1", REF, "1.00"),
        ("F1", None, "X", "A1", REF, "2.00"),
        ("F1", None, "Y", "A1", REF, "3.00"),
        ("F1", "O9", "Z", "A1", REF, "4.00"),
        ("F1", "O9", "Z", "A1", REF, "4.00"),
    ]
    _write(recon_env, csv("F1;O1;Ana;A1;2024-03-09;1.00").encode(), base)
    result = run_day(instance, DAY)
    assert not result.success
    check = check_results(result)["ordem_id_unico_base"]
    assert not check.passed
    meta = {k: getattr(v, "value", v) for k, v in check.metadata.items()}
    assert (
        meta["linhas"],
        meta["ordem_ids_distintos"],
        meta["ordem_ids_nulos"],
        meta["ordem_ids_repetidos"],
    ) == (5, 2, 2, 1)
    assert meta["duplicados_exemplo"] == "<nulo>, O9"
    assert not published(recon_env, "divergencias", DAY)
    assert not published(recon_env, "resumo_conciliacao", DAY)


def test_uniqueness_check_renders_a_null_sample_and_fails_on_a_single_null():
    one_null = unique_internal_ids(rows=3, distinct_ids=2, sample=[None], nulls=1, duplicated=0)
    assert not one_null.passed
    assert one_null.metadata["duplicados_exemplo"].value == "<nulo>"
    assert unique_internal_ids(rows=2, distinct_ids=2, sample=[]).passed


def test_the_contract_and_its_audit_accept_the_top_of_decimal_18_2(recon_env, instance):
    """No difference beyond decimal(18,2) here: only the money expectations are exercised, by the SQL
    gate and by Great Expectations' audit (which once compared floats: 9999999999999999.99 -> 1e16)."""
    _write(recon_env, csv(f"F1;O1;Ana;A1;2024-03-09;{MAX}").encode(), [])
    result = run_day(instance, DAY, tags=RELEASED)
    checks = check_results(result)
    assert checks["contrato_divergencias"].passed
    assert result.success and published(recon_env, "divergencias", DAY)
    audit = check_results(run_audit(instance, DAY))["expectativas_divergencias"]
    assert audit.passed and audit.metadata["linhas_total"].value == 1
