"""SPEC 2.1: real supplier files — encodings, line endings, delimiters, headers — read exactly."""

import pytest

from reconciliation_assets.engine.header import HeaderError, parse_header
from reconciliation_assets.engine.lines import profile_file
from tests.chain import HEADER, csv, run_day

ROW = "F1;O1;José;A1;2024-03-09;1,00"


def test_utf8_bom_is_stripped_from_the_first_header(tmp_path):
    result = run_day(tmp_path, {"a.csv": b"\xef\xbb\xbf" + csv(ROW).encode("utf-8")})
    assert result.validadas[0]["nome"] == "José"
    assert result.stats["linhas_validas"] == 1


def test_windows_1252_is_detected_over_the_whole_file(tmp_path):
    """The first non-ASCII byte is ~300 kB in: a sniff of the head would call this UTF-8."""
    ascii_rows = [f"F1;O{i};Ana;A1;2024-03-09;1.00" for i in range(10_000)]
    late = "F1;OX;Conceição;A1;2024-03-09;1.00"
    content = csv(*ascii_rows, late).encode("cp1252")
    assert content.index("ç".encode("cp1252")) > 300_000
    (tmp_path / "probe.csv").write_bytes(content)
    assert profile_file(tmp_path / "probe.csv").encoding == "cp1252"
    result = run_day(tmp_path, {"a.csv": content})
    assert result.stats["linhas_validas"] == 10_001
    assert result.validadas[-1]["nome"] == "Conceição"


def test_crlf_and_last_line_without_newline(tmp_path):
    content = (HEADER + "\r\n" + "F1;O1;Ana;A1;2024-03-09;1\r\n" + "F1;O2;Bia;A1;2024-03-09;2").encode()
    result = run_day(tmp_path, {"a.csv": content})
    assert [(r["ordem_id"], r["nome"], r["linha"]) for r in result.validadas] == [
        ("O1", "Ana", 2),
        ("O2", "Bia", 3),
    ]


def test_crlf_is_not_part_of_a_quarantined_line(tmp_path):
    result = run_day(tmp_path, {"a.csv": (HEADER + "\r\nF1;O1;Ana;A1;2024-03-09;x\r\n").encode()})
    assert result.quarentena[0]["conteudo"] == "F1;O1;Ana;A1;2024-03-09;x"


def test_columns_in_another_order_with_an_extra_column_and_odd_case(tmp_path):
    header = " Valor ;DATA;canal;Ordem_ID;nome;ATIVO_ID;fornecedor_id"
    result = run_day(tmp_path, {"a.csv": csv("12,34;09/03/2024;web;O1;Ana;A1;F1", header=header)})
    row = result.validadas[0]
    assert (row["fornecedor_id"], row["ordem_id"], row["nome"], row["ativo_id"], str(row["valor"])) == (
        "F1",
        "O1",
        "Ana",
        "A1",
        "12.34",
    )


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_comma_and_tab_delimiters_are_detected(tmp_path, delimiter):
    header = delimiter.join(HEADER.split(";"))
    line = delimiter.join(["F1", "O1", '"Silva, Ana"', "A1", "2024-03-09", "10.5"])
    result = run_day(tmp_path, {"a.csv": csv(line, header=header)})
    assert result.validadas[0]["nome"] == "Silva, Ana"
    assert str(result.validadas[0]["valor"]) == "10.50"


def test_missing_required_column_rejects_the_file_with_a_clear_message():
    with pytest.raises(HeaderError) as err:
        parse_header("fornecedor_id;ordem_id;nome;data;valor", "dia.csv")
    assert "dia.csv" in str(err.value)
    assert "ativo_id" in str(err.value)


def test_empty_file_is_rejected():
    with pytest.raises(HeaderError, match="vazio"):
        parse_header(None, "vazio.csv")


def test_header_only_file_gives_zero_lines(tmp_path):
    result = run_day(tmp_path, {"a.csv": HEADER})
    assert (result.stats["linhas_csv"], result.stats["linhas_fisicas"]) == (0, 1)


@pytest.mark.parametrize("chunk", [7, 16, 64])
def test_lines_are_exact_across_read_chunks(tmp_path, monkeypatch, chunk):
    """Chunk boundaries fall inside lines, on CR/LF pairs and inside multi-byte characters."""
    from reconciliation_assets.engine import lines

    monkeypatch.setattr(lines, "CHUNK_BYTES", chunk)
    text = "cabeçalho\r\nação;1\r\n\r\n  \nlinha com \r no meio\nsem fim\r"
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode("utf-8"))
    got = [
        (n, t)
        for batch in lines.iter_line_batches(path, "utf-8", 0)
        for n, t in zip(batch.column("linha").to_pylist(), batch.column("conteudo").to_pylist(), strict=True)
    ]
    assert got == [
        (1, "cabeçalho"),
        (2, "ação;1"),
        (3, ""),
        (4, "  "),
        (5, "linha com \r no meio"),
        (6, "sem fim"),
    ]
