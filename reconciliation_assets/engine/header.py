"""Read a supplier file's header: which delimiter it uses and where each required column is.

This runs once per file on one line, so plain Python is the right tool here.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

REQUIRED_COLUMNS = ("fornecedor_id", "ordem_id", "nome", "ativo_id", "data", "valor")
DELIMITERS = (";", ",", "\t")
HEADER_MAX_CHARS = 65_536  # a header of six names and some extras; csv refuses fields over 128 KiB
DELIMITER_NAMES = {";": "ponto e vírgula", ",": "vírgula", "\t": "tab"}


class HeaderError(ValueError):
    """The file cannot be read as the supplier format; the message says why, for a person."""


@dataclass(frozen=True)
class Header:
    delimiter: str
    field_count: int
    positions: dict[str, int]  # required column -> 1-based field position
    extra_columns: tuple[str, ...]


# A header field shown back in a message only when it looks like a column name (a typo such as
# "fornecedor_idd"), never when it could be data: the first line of a file without a header is a
# customer's row, and its `nome` must not land in logs.
_LOOKS_LIKE_COLUMN = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader(io.StringIO(line), delimiter=delimiter, quotechar='"'), [])


def _reject_unreadable(line: str, file_name: str) -> None:
    """Encodings and line endings the supplier format does not allow, said for a person."""
    nuls = line.count("\x00")
    if line.startswith(("\xff\xfe", "\xfe\xff", "\ufeff\x00")) or (nuls and nuls * 3 >= len(line)):
        raise HeaderError(
            f"{file_name}: parece UTF-16 (bytes nulos entre os caracteres do cabeçalho); "
            "envie UTF-8 ou Windows-1252."
        )
    if nuls:
        raise HeaderError(f"{file_name}: o cabeçalho contém o caractere nulo (byte 0x00); envie texto UTF-8.")
    if "\r" in line:
        raise HeaderError(f"{file_name}: fim de linha só com CR (\\r) não suportado; use LF ou CRLF.")


def _describe(names: list[str], found: list[str]) -> str:
    """What the first line held, without echoing data: field count, recognised columns and, only when
    the line is a header with some required column, the other names that look like column names."""
    parts = [f"A primeira linha tem {len(names)} campo(s)"]
    if not found:
        parts.append("nenhuma coluna obrigatória reconhecida (arquivo sem linha de cabeçalho?)")
        return "; ".join(parts)
    parts.append(f"colunas reconhecidas: {', '.join(found)}")
    others = [n for n in names if n not in REQUIRED_COLUMNS]
    shown = [n for n in others if _LOOKS_LIKE_COLUMN.fullmatch(n)]
    if shown:
        parts.append(f"outras colunas: {', '.join(shown[:10])}")
    if len(shown) < len(others):
        parts.append(f"{len(others) - len(shown)} campo(s) que não parecem nomes de coluna (não exibidos)")
    return "; ".join(parts)


def parse_header(line: str | None, file_name: str) -> Header:
    """Pick the delimiter that yields every required column; match names trimmed and case-insensitively."""
    if line is None or not line.strip():
        raise HeaderError(f"{file_name}: arquivo vazio ou sem linha de cabeçalho (linha 1).")
    _reject_unreadable(line, file_name)
    if len(line) > HEADER_MAX_CHARS:
        raise HeaderError(
            f"{file_name}: a primeira linha tem mais de {HEADER_MAX_CHARS} caracteres (sem fim de linha?); "
            f"não é um cabeçalho. Esperado (qualquer ordem): {', '.join(REQUIRED_COLUMNS)}."
        )
    best: tuple[int, str, list[str]] | None = None
    for delimiter in DELIMITERS:
        try:
            fields = _split(line, delimiter)
        except csv.Error as exc:  # a safety net: the checks above remove the known causes
            raise HeaderError(f"{file_name}: cabeçalho ilegível como CSV ({exc}).") from None
        names = [n.strip().lstrip("\ufeff").strip().lower() for n in fields]
        found = sum(1 for c in REQUIRED_COLUMNS if c in names)
        if best is None or found > best[0]:
            best = (found, delimiter, names)
    assert best is not None
    found, delimiter, names = best
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise HeaderError(
            f"{file_name}: coluna(s) obrigatória(s) ausente(s) no cabeçalho: {', '.join(missing)}. "
            f"{_describe(names, [c for c in REQUIRED_COLUMNS if c in names])}. "
            f"Esperado (qualquer ordem): {', '.join(REQUIRED_COLUMNS)}."
        )
    duplicated = sorted({c for c in REQUIRED_COLUMNS if names.count(c) > 1})
    if duplicated:
        raise HeaderError(f"{file_name}: coluna(s) repetida(s) no cabeçalho: {', '.join(duplicated)}.")
    positions = {c: names.index(c) + 1 for c in REQUIRED_COLUMNS}
    extras = tuple(n for n in names if n not in REQUIRED_COLUMNS)
    return Header(delimiter=delimiter, field_count=len(names), positions=positions, extra_columns=extras)
