"""Step 1: stage the day's supplier files as physical lines, with what we learned about each file."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reconciliation_assets.engine.header import REQUIRED_COLUMNS, parse_header
from reconciliation_assets.engine.lines import LINES_SCHEMA, iter_line_batches, profile_file, read_first_line


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
    chegou_em: float
    versao: str


def stage_files(files: list[SourceFile], lines_path: Path, files_path: Path) -> list[StagedFile]:
    """Write every physical line of ``files`` (in file-name order) to ``lines_path``.

    Every header is read before any line is written: if one file lacks a required column the
    whole day is rejected with a ``HeaderError`` (a clear, user-facing message), because its
    rows would otherwise turn into false TIPO_2.
    """
    ordered = sorted(files, key=lambda f: f.name)
    profiles = [profile_file(f.local_path) for f in ordered]
    headers = [
        parse_header(read_first_line(f.local_path, p.encoding), f.name)
        for f, p in zip(ordered, profiles, strict=True)
    ]
    staged: list[StagedFile] = []
    lines_path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(lines_path, LINES_SCHEMA, compression="zstd") as writer:
        for idx, (source, profile, header) in enumerate(zip(ordered, profiles, headers, strict=True)):
            n_lines = 0
            for batch in iter_line_batches(source.local_path, profile.encoding, idx):
                writer.write_batch(batch)
                n_lines += batch.num_rows
            staged.append(
                StagedFile(
                    arquivo_idx=idx,
                    arquivo=source.name,
                    uri=source.uri,
                    encoding=profile.encoding,
                    size_bytes=profile.size_bytes,
                    sha256=profile.sha256,
                    delimitador=header.delimiter,
                    n_campos=header.field_count,
                    colunas_extras=",".join(header.extra_columns),
                    linhas_fisicas=n_lines,
                    chegou_em=source.arrived_at,
                    versao=source.version,
                )
            )
    rows = [
        asdict(item) | {f"pos_{c}": header.positions[c] for c in REQUIRED_COLUMNS}
        for item, header in zip(staged, headers, strict=True)
    ]
    pq.write_table(pa.Table.from_pylist(rows), files_path)
    return staged
