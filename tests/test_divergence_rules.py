"""SPEC section 4 and 5: exact divergence rows, severities at their edges, hashes and the summary."""

import hashlib
from datetime import date
from decimal import Decimal

from tests.chain import csv, run_day

D = date


DAY_BEFORE = D(2024, 3, 9)


def base(oid, valor, data=DAY_BEFORE, forn="F1", nome="Ana", ativo="A1"):
    return (forn, oid, nome, ativo, data, valor)


CSV_LINES = [
    "F1;O1;Ana;A1;2024-03-09;10,00",
    "F1;O2;Ana;A1;2024-03-09;-5,5",
    "F1;O3;Ana;A1;2024-03-09;10.00",
    "F1;O4;Ana;A1;2024-03-09;11.00",
    "F1;O5;Ana;A1;2024-03-09;10.99",
    "F1;O6;Ana;A1;2024-03-09;1010.00",
    "F1;O7;Ana;A1;2024-03-09;1009.99",
    "F1;O6N;Ana;A1;2024-03-09;-990.00",
    "F1;O8;Ana;A1;09/03/2024;1.00",
    "F1;O9;Ana;A1;2024-03-09;1.00",
    "F1;O10;Ana;A1;2024-03-09;1.00",
    "F1;O11;Ana;A1;2024-03-09;1.00",
    "F1;O12;Ana;A1;2024-03-09;1.00",
    "F1;O13;Jose\u0301 Conceic\u0327a\u0303o;A1;2024-03-09;1.00",
    "F1;O14;Ana;A1;2024-03-05;1.00",
]
BASE_ROWS = [
    base("O1", Decimal("10.00")),
    base("O3", Decimal("10.01")),
    base("O4", Decimal("10.00")),
    base("O5", Decimal("10.00")),
    base("O6", Decimal("10.00")),
    base("O7", Decimal("10.00")),
    base("O6N", Decimal("10.00")),
    base("O8", Decimal("1.00"), data=D(2024, 3, 8)),
    base("O9", Decimal("1.00"), forn="F2"),
    base("O10", Decimal("1.00"), ativo="A2"),
    base("O11", Decimal("1.00"), nome="Ana Maria"),
    base("O12", Decimal("2.00"), nome="Bia"),
    base("O13", Decimal("1.00"), nome="  José Conceição "),
    base("O14", Decimal("1.00"), data=D(2024, 1, 1)),  # matched outside the coverage: TIPO_3_DATA, not TIPO_1
    base("B1", Decimal("7.77"), data=D(2024, 3, 5), forn="F3", nome="Caio", ativo="A3"),  # inside: TIPO_2
    base("B2", Decimal("8.00"), data=D(2024, 3, 4)),  # a day before the coverage: ignored
    base("B3", Decimal("9.00"), data=D(2024, 3, 10)),  # a day after the coverage: ignored
]


def _by(result):
    return {(r["ordem_id"], r["tipo_divergencia"]): r for r in result.divergencias}


def test_divergence_types_and_severity_edges(tmp_path):
    result = run_day(tmp_path, {"a.csv": csv(*CSV_LINES)}, BASE_ROWS)
    got = {k: (r["severidade"], r["valor_diferenca"]) for k, r in _by(result).items()}
    assert got == {
        ("O2", "TIPO_1"): ("HIGH", None),
        ("O3", "TIPO_3_VALOR"): ("LOW", Decimal("-0.01")),
        ("O4", "TIPO_3_VALOR"): ("MEDIUM", Decimal("1.00")),  # |d| = 1.00: MEDIUM (inclusive)
        ("O5", "TIPO_3_VALOR"): ("LOW", Decimal("0.99")),
        ("O6", "TIPO_3_VALOR"): ("HIGH", Decimal("1000.00")),  # |d| = 1000.00: HIGH (inclusive)
        ("O7", "TIPO_3_VALOR"): ("MEDIUM", Decimal("999.99")),
        ("O6N", "TIPO_3_VALOR"): ("HIGH", Decimal("-1000.00")),
        ("O8", "TIPO_3_DATA"): ("MEDIUM", Decimal("0.00")),
        ("O9", "TIPO_3_FORNECEDOR"): ("MEDIUM", Decimal("0.00")),
        ("O10", "TIPO_3_ATIVO"): ("MEDIUM", Decimal("0.00")),
        ("O11", "TIPO_3_NOME"): ("LOW", Decimal("0.00")),
        ("O12", "TIPO_3_VALOR"): ("MEDIUM", Decimal("-1.00")),
        ("O12", "TIPO_3_NOME"): ("LOW", Decimal("-1.00")),
        ("O14", "TIPO_3_DATA"): ("MEDIUM", Decimal("0.00")),
        ("B1", "TIPO_2"): ("HIGH", None),
    }


def test_row_contents_details_and_hashes(tmp_path):
    rows = _by(run_day(tmp_path, {"a.csv": csv(*CSV_LINES)}, BASE_ROWS))
    t1 = rows[("O2", "TIPO_1")]
    assert (t1["valor_csv"], t1["valor_base"], t1["data_base"]) == (Decimal("-5.50"), None, None)
    assert t1["detalhes"] == "campo=ordem_id; ordem_id=O2; presente_em=csv; ausente_em=base"
    assert t1["hash_linha"] == hashlib.sha256(b"F1|O2|Ana|A1|2024-03-09|-5.50").hexdigest()
    t2 = rows[("B1", "TIPO_2")]
    assert (t2["fornecedor_id"], t2["nome"], t2["data"], t2["data_base"]) == (
        "F3",
        "Caio",
        D(2024, 3, 5),
        D(2024, 3, 5),
    )
    assert (t2["valor_csv"], t2["valor_base"]) == (None, Decimal("7.77"))
    assert t2["hash_linha"] == hashlib.sha256(b"F3|B1|Caio|A3|2024-03-05|7.77").hexdigest()
    v = rows[("O3", "TIPO_3_VALOR")]
    assert v["detalhes"] == "campo=valor; valor_csv=10.00; valor_base=10.01; diferenca=-0.01"
    assert rows[("O8", "TIPO_3_DATA")]["detalhes"] == "campo=data; data_csv=2024-03-09; data_base=2024-03-08"
    assert rows[("O14", "TIPO_3_DATA")]["data_base"] == D(2024, 1, 1)
    assert rows[("O11", "TIPO_3_NOME")]["detalhes"] == "campo=nome; nome_csv=Ana; nome_base=Ana Maria"
    assert {r["job_id"] for r in rows.values()} == {"run-teste"}


def test_summary_counts_and_balance(tmp_path):
    resumo = run_day(tmp_path, {"a.csv": csv(*CSV_LINES)}, BASE_ROWS).resumo
    assert {
        k: resumo[k]
        for k in (
            "tipo_1",
            "tipo_2",
            "tipo_3_valor",
            "tipo_3_data",
            "tipo_3_fornecedor",
            "tipo_3_ativo",
            "tipo_3_nome",
        )
    } == {
        "tipo_1": 1,
        "tipo_2": 1,
        "tipo_3_valor": 7,
        "tipo_3_data": 2,
        "tipo_3_fornecedor": 1,
        "tipo_3_ativo": 1,
        "tipo_3_nome": 2,
    }
    assert (resumo["linhas_validas"], resumo["linhas_base_escopo"], resumo["casadas"]) == (15, 15, 14)
    assert resumo["conciliadas_sem_divergencia"] == 2  # O1 and O13 (NFD/padding is not a divergence)
    assert (resumo["cobertura_inicio"], resumo["cobertura_fim"]) == (D(2024, 3, 5), D(2024, 3, 9))
    # 14 distinct divergent ordem_ids (all but O1 and O13) over 16 distinct ids in scope (15 CSV + B1)
    assert resumo["taxa_divergencia"] == 14 / 16
    assert resumo["total_csv"] - resumo["total_base_escopo"] == resumo["total_explicado"]
    assert resumo["diferenca_nao_explicada"] == Decimal("0.00")
    assert resumo["total_explicado"] == Decimal("-5.50") - Decimal("7.77") + Decimal("-0.01") + Decimal(
        "1.00"
    ) + Decimal("0.99") + Decimal("1000.00") + Decimal("999.99") + Decimal("-1000.00") + Decimal("-1.00")


def test_configurable_thresholds(tmp_path):
    rows = _by(run_day(tmp_path, {"a.csv": csv(*CSV_LINES)}, BASE_ROWS, high="500", medium="0.50"))
    assert rows[("O7", "TIPO_3_VALOR")]["severidade"] == "HIGH"
    assert rows[("O5", "TIPO_3_VALOR")]["severidade"] == "MEDIUM"
    assert rows[("O3", "TIPO_3_VALOR")]["severidade"] == "LOW"


def test_internal_values_with_more_decimals_are_rounded_half_even(tmp_path):
    base_rows = [
        base("O1", Decimal("10.0050")),
        base("O2", Decimal("-5.5150")),
        base("O3", Decimal("2.6750")),
    ]
    lines = ["F1;O1;Ana;A1;2024-03-09;10.00", "F1;O2;Ana;A1;2024-03-09;-5.52", "F1;O3;Ana;A1;2024-03-09;2.68"]
    result = run_day(tmp_path, {"a.csv": csv(*lines)}, base_rows, base_valor_type="DECIMAL(18,4)")
    assert result.divergencias == []
    assert result.resumo["conciliadas_sem_divergencia"] == 3


def test_one_cent_is_a_divergence(tmp_path):
    result = run_day(tmp_path, {"a.csv": csv("F1;O1;Ana;A1;2024-03-09;0,01")}, [base("O1", Decimal("0.00"))])
    assert [(r["tipo_divergencia"], r["valor_diferenca"], r["severidade"]) for r in result.divergencias] == [
        ("TIPO_3_VALOR", Decimal("0.01"), "LOW")
    ]
