"""Facts about a local file the engine and the stores both need: its sha256 and a Parquet's row count."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq

CHUNK = 8 * 1024 * 1024


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def parquet_rows(path: Path) -> int:
    """Rows of a Parquet file, from its footer (nothing else is read)."""
    return int(pq.read_metadata(path).num_rows)
