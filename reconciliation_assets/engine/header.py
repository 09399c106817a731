"""Read a supplier file's header: which delimiter it uses and where each required column is.

This runs once per file on one line, so plain Python is the right tool here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

REQUIRED_COLUMNS = ("fornecedor_id", "ordem_id", "nome", "ativo_id", "data", "valor")
DELIMITERS = (";", ",", "\t")
DELIMITER_NAMES = {";": "ponto e vírgula", ",": "vírgula", "\t": "tab"}


class HeaderError(ValueError):
    """The file cannot be read as the supplier format; the message says why, for a person."""


@dataclass(frozen=True)
class Header:
    delimiter: str
    field_count: int
    positions: dict[str, int]  # required column -> 1-based field position
    extra_columns: tuple[str, ...]


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader(io.StringIO(line), delimiter=delimiter, quotechar='"'), [])


def parse_header(line: str | None, file_name: str) -> Header:
    """Pick the delimiter that yields every required column; match names trimmed and case-insensitively."""
    if line is None or not line.strip():
        raise HeaderError(f"{file_name}: arquivo vazio ou sem linha de cabeçalho (linha 1).")
    best: tuple[int, str, list[str]] | None = None
    for delimiter in DELIMITERS:
        names = [n.strip().lstrip("\ufeff").strip().lower() for n in _split(line, delimiter)]
        found = sum(1 for c in REQUIRED_COLUMNS if c in names)
        if best is None or found > best[0]:
            best = (found, delimiter, names)
    assert best is not None
    found, delimiter, names = best
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise HeaderError(
            f"{file_name}: coluna(s) obrigatória(s) ausente(s) no cabeçalho: {', '.join(missing)}. "
            f"Cabeçalho lido: {line[:200]!r}. Esperado (qualquer ordem): {', '.join(REQUIRED_COLUMNS)}."
        )
    duplicated = sorted({c for c in REQUIRED_COLUMNS if names.count(c) > 1})
    if duplicated:
        raise HeaderError(f"{file_name}: coluna(s) repetida(s) no cabeçalho: {', '.join(duplicated)}.")
    positions = {c: names.index(c) + 1 for c in REQUIRED_COLUMNS}
    extras = tuple(n for n in names if n not in REQUIRED_COLUMNS)
    return Header(delimiter=delimiter, field_count=len(names), positions=positions, extra_columns=extras)
