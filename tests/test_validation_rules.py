"""SPEC section 2.1 and 3: every line's outcome, one row per rule, as a table of exact expectations.

The reference date is 2024-03-10 and max_age_days is 31, so 2024-02-08 is the oldest valid day.
"""

from datetime import date
from decimal import Decimal

import pytest

from tests.chain import csv, run_day

OK = None  # valid line


def _one(tmp_path, line: str):
    result = run_day(tmp_path, {"a.csv": csv(line)})
    assert result.stats["linhas_csv"] == 1
    if result.validadas:
        return None, result.validadas[0]
    return result.quarentena[0]["motivo"], result.quarentena[0]


VALOR_CASES = [
    # (valor as written, expected decimal) — half-even ties on both signs, decimal point and comma
    ("10.50", "10.50"),
    ("10,5", "10.50"),
    ("10.005", "10.00"),
    ("10.015", "10.02"),
    ("10,005", "10.00"),
    ("-5.515", "-5.52"),
    ("-5,515", "-5.52"),
    ("-5.525", "-5.52"),
    ("2.675", "2.68"),  # a binary float would give 2.67
    ("0.0050", "0.00"),
    ("0.00501", "0.01"),
    ("-0,001", "0.00"),
    ("+3,1", "3.10"),
    ("007", "7.00"),
    ("9999999999999999.99", "9999999999999999.99"),
    ('"1234,56"', "1234.56"),
]


@pytest.mark.parametrize(("valor", "expected"), VALOR_CASES)
def test_valor_is_rounded_half_even_exactly(tmp_path, valor, expected):
    motivo, row = _one(tmp_path, f"F1;O1;Ana;A1;2024-03-09;{valor}")
    assert motivo is OK
    assert row["valor"] == Decimal(expected)


@pytest.mark.parametrize(
    "valor",
    [
        "abc",
        "1e5",
        "R$ 10,00",
        "1.000,00",
        "10.5.3",
        "--5",
        "12345678901234567.00",
        "9999999999999999.995",
        ".5",
        "5.",
        "10 50",
    ],
)
def test_invalid_valor(tmp_path, valor):
    motivo, row = _one(tmp_path, f"F1;O1;Ana;A1;2024-03-09;{valor}")
    assert motivo == "INVALID_VALOR"
    assert valor.strip() in row["detalhe"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("2024-03-09", date(2024, 3, 9)),
        ("09/03/2024", date(2024, 3, 9)),
        ("29/02/2024", date(2024, 2, 29)),
        ("2024-03-10", date(2024, 3, 10)),  # D itself
        ("2024-02-08", date(2024, 2, 8)),  # exactly 31 days before D
    ],
)
def test_valid_dates(tmp_path, data, expected):
    motivo, row = _one(tmp_path, f"F1;O1;Ana;A1;{data};1.00")
    assert motivo is OK
    assert row["data"] == expected


@pytest.mark.parametrize(
    ("data", "motivo"),
    [
        ("31/02/2024", "INVALID_DATA"),
        ("2024-02-30", "INVALID_DATA"),
        ("29/02/2023", "INVALID_DATA"),
        ("2024-2-3", "INVALID_DATA"),
        ("2024/03/09", "INVALID_DATA"),
        ("ontem", "INVALID_DATA"),
        ("2024-03-11", "DATE_OUT_OF_RANGE"),  # after D
        ("2024-02-07", "DATE_OUT_OF_RANGE"),  # 32 days before D
    ],
)
def test_invalid_and_out_of_range_dates(tmp_path, data, motivo):
    assert _one(tmp_path, f"F1;O1;Ana;A1;{data};1.00")[0] == motivo


@pytest.mark.parametrize(
    ("line", "motivo", "detalhe"),
    [
        ("F1;O1;Ana;A1;2024-03-09", "MALFORMED_ROW", "esperados 6 campos, encontrados 5"),
        ("F1;O1;Ana;A1;2024-03-09;1.00;extra", "MALFORMED_ROW", "esperados 6 campos, encontrados 7"),
        ('F1;O1;"Ana;A1;2024-03-09;1.00', "MALFORMED_ROW", "aspas"),
        ('F1;O1;Ana"x;A1;2024-03-09;1.00', "MALFORMED_ROW", "aspas"),
        ("F1;O1;;A1;2024-03-09;1.00", "MISSING_FIELD", "nome"),
        ("F1;O1;Ana;   ;2024-03-09;1.00", "MISSING_FIELD", "ativo_id"),
        ("F1;O1;Ana;A1;2024-03-09;", "MISSING_FIELD", "valor"),
        (";;Ana;A1;2024-03-09;1.00", "MISSING_FIELD", "fornecedor_id, ordem_id"),
        # Precedence: the first reason in the SPEC's order wins.
        ("F1;O1;Ana;A1;abc", "MALFORMED_ROW", "encontrados 5"),
        ("F1;O1;;A1;ontem;abc", "MISSING_FIELD", "nome"),
        ("F1;O1;Ana;A1;ontem;abc", "INVALID_VALOR", "abc"),
        ("F1;O1;Ana;A1;2030-01-01;1,00", "DATE_OUT_OF_RANGE", "posterior"),
    ],
)
def test_quarantine_reasons_and_precedence(tmp_path, line, motivo, detalhe):
    got, row = _one(tmp_path, line)
    assert got == motivo
    assert detalhe in row["detalhe"]
    assert row["conteudo"] == line
    assert row["linha"] == 2
    assert row["arquivo"] == "a.csv"


def test_quoted_fields_keep_delimiters_and_escaped_quotes(tmp_path):
    result = run_day(
        tmp_path,
        {
            "a.csv": csv(
                'F1;O1;"Silva; Ana";A1;2024-03-09;1', 'F1;O2;"Ana ""Aninha"" Lima";A1;2024-03-09;"2,5"'
            )
        },
    )
    assert [r["nome"] for r in result.validadas] == ["Silva; Ana", 'Ana "Aninha" Lima']
    assert [r["valor"] for r in result.validadas] == [Decimal("1.00"), Decimal("2.50")]


def test_names_are_trimmed_and_nfc_normalised(tmp_path):
    nfd = "Jose\u0301 Conceic\u0327a\u0303o"
    result = run_day(tmp_path, {"a.csv": csv(f"  F1 ;O1;  {nfd}  ;A1;2024-03-09;1")})
    row = result.validadas[0]
    assert row["nome"] == "José Conceição"
    assert row["fornecedor_id"] == "F1"


def test_duplicates_keep_first_in_file_name_order_and_only_among_otherwise_valid_rows(tmp_path):
    files = {
        "b.csv": csv("F1;O1;Bia;A1;2024-03-09;2.00", "F1;O3;Ok;A1;2024-03-09;3.00"),
        "a.csv": csv(
            "F1;O1;Ana;A1;2024-03-09;1.00",
            "F1;O2;Bad;A1;2024-03-09;abc",  # invalid first occurrence does not count
            "F1;O2;Good;A1;2024-03-09;2.00",
            "F1;O1;Ana;A1;2024-03-09;1.00",
        ),
    }
    result = run_day(tmp_path, files)
    assert [(r["arquivo"], r["linha"], r["ordem_id"]) for r in result.validadas] == [
        ("a.csv", 2, "O1"),
        ("a.csv", 4, "O2"),
        ("b.csv", 3, "O3"),
    ]
    assert [(r["arquivo"], r["linha"], r["motivo"]) for r in result.quarentena] == [
        ("a.csv", 3, "INVALID_VALOR"),
        ("a.csv", 5, "DUPLICATE_ORDEM_ID"),
        ("b.csv", 2, "DUPLICATE_ORDEM_ID"),
    ]
    assert "a.csv linha 2" in result.quarentena[2]["detalhe"]


def test_every_line_is_accounted_for(tmp_path):
    text = csv(
        "F1;O1;Ana;A1;2024-03-09;1", "", "   ", "F1;O2;Ana;A1;2024-03-09;x", "F1;O3;Ana;A1;2024-03-09;3"
    )
    result = run_day(tmp_path, {"a.csv": text, "b.csv": csv()})
    s = result.stats
    assert (s["arquivos"], s["linhas_fisicas"], s["linhas_cabecalho"]) == (2, 7, 2)
    assert (s["linhas_csv"], s["linhas_validas"], s["linhas_quarentena"], s["linhas_em_branco"]) == (
        3,
        2,
        1,
        2,
    )
    assert s["linhas_csv"] == s["linhas_validas"] + s["linhas_quarentena"]
