"""Step 1: stage the day's supplier files as physical lines, with what we learned about each file."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reconciliation_assets.engine.header import REQUIRED_COLUMNS, parse_header
from reconciliation_assets.engine.lines import (
    LINES_SCHEMA,
    NotUtf8,
    ScannedFile,
    read_first_line,
    scan_lines,
    sniff_encoding,
)


@dataclass(frozen=True)
class SourceFile:
    """One input file, already on local disk, and where it came from."""

    name: str
    local_path: Path
    uri: str
    arrived_at: float  # POSIX seconds: S3 LastModified or local mtime
    version: str  # ETag on S3, "mtime-size" locally


@dataclass(frozen=True)
class StagedFile:
    arquivo_idx: int
    arquivo: str
    uri: str
    encoding: str
    size_bytes: int
    sha256: str
    delimitador: str
    n_campos: int
    colunas_extras: str
    linhas_fisicas: int
    linhas_em_branco: int  # data lines of only spaces and tabs (line 1, the header, excluded)
    chegou_em: float
    versao: str


def stage_files(files: list[SourceFile], lines_path: Path, files_path: Path) -> list[StagedFile]:
    """Write every physical line of ``files`` (in file-name order) to ``lines_path``.

    Every header is read before any line is written: if one file lacks a required column the
    whole day is rejected with a ``HeaderError`` (a clear, user-facing message), because its
    rows would otherwise turn into false TIPO_2.
    """
    ordered = sorted(files, key=lambda f: f.name)
    # Each file is read once (hashed, checked as UTF-8, split); one that turns out not to be UTF-8
    # past its head makes the day start again with that file as Windows-1252 (rare: a supplier's
    # encoding does not change mid-file), so the lines written are always those of the final encodings.
    encodings = [sniff_encoding(f.local_path) for f in ordered]
    while True:
        try:
            return _stage(ordered, encodings, lines_path, files_path)
        except _Restart as restart:
            encodings[restart.index] = "cp1252"
        except BaseException:
            lines_path.unlink(missing_ok=True)
            raise


class _Restart(Exception):
    def __init__(self, index: int):
        self.index = index


def _stage(
    ordered: list[SourceFile], encodings: list[str], lines_path: Path, files_path: Path
) -> list[StagedFile]:
    headers = [
        parse_header(read_first_line(f.local_path, encoding), f.name)
        for f, encoding in zip(ordered, encodings, strict=True)
    ]
    scans: list[ScannedFile] = []
    lines_path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(lines_path, LINES_SCHEMA, compression="zstd") as writer:
        for idx, (source, encoding) in enumerate(zip(ordered, encodings, strict=True)):
            try:
                scans.append(scan_lines(source.local_path, encoding, idx, writer.write_batch))
            except NotUtf8:
                raise _Restart(idx) from None
    staged = [
        StagedFile(
            arquivo_idx=idx,
            arquivo=source.name,
            uri=source.uri,
            encoding=scan.profile.encoding,
            size_bytes=scan.profile.size_bytes,
            sha256=scan.profile.sha256,
            delimitador=header.delimiter,
            n_campos=header.field_count,
            colunas_extras=",".join(header.extra_columns),
            linhas_fisicas=scan.lines,
            linhas_em_branco=scan.blank,
            chegou_em=source.arrived_at,
            versao=source.version,
        )
        for idx, (source, scan, header) in enumerate(zip(ordered, scans, headers, strict=True))
    ]
    rows = [
        asdict(item) | {f"pos_{c}": header.positions[c] for c in REQUIRED_COLUMNS}
        for item, header in zip(staged, headers, strict=True)
    ]
    pq.write_table(pa.Table.from_pylist(rows), files_path)
    return staged
