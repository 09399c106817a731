"""Where files come from and go to: a local folder or ``s3://bucket/prefix``, behind one interface.

The pipeline only ever sees local paths: inputs are fetched to the work folder and outputs are
published from it. Publication is stage → verify → one atomic swap per partition (``os.replace``
locally, one CopyObject on S3), so readers see the old partition or the new one, never a mix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dagster_aws.s3 import S3Resource
from pydantic import PrivateAttr, field_validator

from resources.env import EnvValidatedResource
from resources.stores import (
    IncompleteUpload,
    IngressEntry,
    LocalStore,
    S3Store,
    Store,
    is_s3,
    sha256_file,
    split_s3,
)

__all__ = [
    "IncompleteUpload",
    "IngressEntry",
    "ReconStorage",
    "RemoteFile",
    "is_s3",
    "sha256_file",
    "split_s3",
]

PART_FILE = "part-0.parquet"
MANIFESTS_DIR = "_manifestos"
REPORT_DIR = "relatorio"
REPORT_FILE = "index.html"
SCHEMA_VERSION = 1
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SSE_MODES = ("", "AES256", "aws:kms")


@dataclass(frozen=True)
class RemoteFile:
    """One ingress object: its URI, name inside the date folder, size, version and arrival time."""

    uri: str
    name: str
    size: int
    version: str  # S3 ETag, or "<mtime_ns>-<size>" for a local file
    last_modified: datetime


def csv_name_problem(name: str) -> str | None:
    """Why ``name`` (an entry directly under a date folder) is not an input file; None when it is one.

    Inputs are ``*.csv`` (any case) directly under the date folder. Hidden names (``.x.csv``,
    macOS ``._x.csv``) are not inputs, as with a shell's ``*.csv``. A name that could climb out of the
    work folder once downloaded (``..``, ``/``, ``\\``) or that holds control characters is refused.
    """
    if name.startswith("/") or "\\" in name or ".." in name.rstrip("/").split("/"):
        return "caminho absoluto ou com '..' recusado"
    if not name or "/" in name:
        return "subpasta (só arquivos diretamente sob a pasta da data contam)"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "nome com caracteres de controle recusado"
    if name.startswith("."):
        return "arquivo oculto"
    if not name.lower().endswith(".csv"):
        return "não é *.csv"
    return None


def join_uri(base: str, *parts: str) -> str:
    if is_s3(base):
        return "/".join([base.rstrip("/"), *[p.strip("/") for p in parts]])
    return str(Path(base, *parts))


class ReconStorage(EnvValidatedResource):
    """Ingress, output and checkpoint locations (local paths or ``s3://``) and the local work folder."""

    ingress_uri: str = "recon_data/ingress"
    output_uri: str = "recon_data/output"
    checkpoint_uri: str = "recon_data/checkpoints"
    work_dir: str = "recon_data/work"
    s3: S3Resource
    s3_sse: str = ""  # "", "AES256" (SSE-S3) or "aws:kms" (SSE-KMS)
    s3_sse_kms_key_id: str = ""
    # The ingress sensor looks at the date folders from today - N days to tomorrow (bounded listing).
    ingress_lookback_days: int = 3

    # One boto3 client per resource instance: building one costs ~0.1-0.2 s and clients are thread-safe.
    _s3_client: Any = PrivateAttr(default=None)
    _s3_store: Any = PrivateAttr(default=None)

    @field_validator("ingress_lookback_days")
    @classmethod
    def _lookback(cls, value: int) -> int:
        if not 0 <= value <= 60:
            raise ValueError(f"janela de ingresso inválida: {value} (use um inteiro de 0 a 60)")
        return value

    @field_validator("s3_sse")
    @classmethod
    def _sse(cls, value: str) -> str:
        if value not in SSE_MODES:
            raise ValueError(f"criptografia S3 inválida: {value!r} (use AES256 ou aws:kms, ou deixe vazio)")
        return value

    # ---- where a URI lives ------------------------------------------------------------------
    def _client(self) -> Any:
        if self._s3_client is None:
            self._s3_client = self.s3.get_client()
        return self._s3_client

    def _sse_args(self) -> dict[str, str]:
        if not self.s3_sse:
            return {}
        args = {"ServerSideEncryption": self.s3_sse}
        if self.s3_sse == "aws:kms" and self.s3_sse_kms_key_id:
            args["SSEKMSKeyId"] = self.s3_sse_kms_key_id
        return args

    def _store(self, uri: str) -> Store:
        """The store holding ``uri``: the bucket (one client per resource) or the local disk."""
        if is_s3(uri):
            if self._s3_store is None:
                self._s3_store = S3Store(self._client, self._sse_args())
            return self._s3_store
        return _LOCAL

    # ---- ingress -----------------------------------------------------------------------------
    def day_folder(self, data_referencia: str) -> str:
        return join_uri(self.ingress_uri, data_referencia)

    def list_ingress(self, folder: str = "", start_after: str = "") -> list[IngressEntry]:
        """The direct children of ``<ingress>/<folder>``: files (objects) and sub-folders, by name.

        The one listing both the ingress sensor and the ``arquivos_fornecedor`` asset use. On S3 it
        pages through ``list_objects_v2`` with ``Delimiter='/'`` (sub-folders come back as one entry,
        never their contents); locally it scans the folder. ``start_after`` keeps only entries whose
        relative name (folders end in ``/``) sorts after it, as S3's ``StartAfter`` does, which is how
        the sensor bounds its listing of the ingress root to its lookback window.
        """
        folder = folder.strip("/")
        if folder and (folder.startswith(("/", "\\")) or ".." in folder.split("/")):
            raise ValueError(f"pasta de ingresso inválida: {folder!r}")
        return self._store(self.ingress_uri).children(self.ingress_uri, folder, start_after)

    def list_day_files(self, data_referencia: str) -> list[RemoteFile]:
        """Every ``*.csv`` directly under ``<ingress>/D/``, in file-name order (see ``csv_name_problem``)."""
        if not _DATE_DIR.match(data_referencia):
            raise ValueError(f"data de referência inválida: {data_referencia!r}")
        found = []
        for entry in self.list_ingress(data_referencia):
            name = entry.relative[len(data_referencia) + 1 :]
            if entry.is_folder or csv_name_problem(name) is not None:
                continue
            assert entry.last_modified is not None
            found.append(
                RemoteFile(
                    uri=entry.uri,
                    name=name,
                    size=entry.size,
                    version=entry.version,
                    last_modified=entry.last_modified,
                )
            )
        return sorted(found, key=lambda f: f.name)

    def upload_ingress(self, local_file: Path, data_referencia: str, name: str | None = None) -> str:
        """Put ``local_file`` at ``<ingress>/D/<name>`` (one PUT on S3, a rename locally); returns its URI."""
        name = name or local_file.name
        problem = csv_name_problem(name)
        if problem or not _DATE_DIR.match(data_referencia):
            raise ValueError(f"destino de ingresso inválido: {data_referencia}/{name} ({problem or 'data'})")
        uri = join_uri(self.day_folder(data_referencia), name)
        self._store(uri).upload(local_file, uri)
        return uri

    def fetch(self, remote: RemoteFile, dest_dir: Path) -> Path:
        """A local path holding ``remote``'s bytes (downloaded from S3; the file itself when local)."""
        return self._store(remote.uri).local_path(remote.uri, dest_dir / remote.name)

    # ---- outputs -----------------------------------------------------------------------------
    def partition_uri(self, table: str, data_referencia: str) -> str:
        return join_uri(self.output_uri, table, f"data_referencia={data_referencia}")

    def table_uri(self, table: str, data_referencia: str) -> str:
        return join_uri(self.partition_uri(table, data_referencia), PART_FILE)

    def report_uri(self, data_referencia: str) -> str:
        """``<output>/relatorio/data_referencia=D/index.html``: D's daily report (not a table)."""
        return join_uri(self.output_uri, REPORT_DIR, f"data_referencia={data_referencia}", REPORT_FILE)

    def manifest_uri(self, data_referencia: str, name: str) -> str:
        """``<output>/_manifestos/data_referencia=D/<name>.json``: outside every table folder."""
        return join_uri(self.output_uri, MANIFESTS_DIR, f"data_referencia={data_referencia}", f"{name}.json")

    def published_dates(self, table: str) -> list[str]:
        """The dates that have ``table``'s partition file published, oldest first."""
        marker = "data_referencia="
        root = join_uri(self.output_uri, table)
        dates = []
        for relative in self._store(root).files_under(root, marker):
            folder, _, name = relative.partition("/")
            if name == PART_FILE:
                dates.append(folder[len(marker) :])
        return sorted(dates)

    def fetch_published(self, table: str, data_referencia: str, dest_dir: Path) -> Path:
        """A local path holding D's published ``table`` file (downloaded from S3; the file itself locally)."""
        uri = self.table_uri(table, data_referencia)
        return self._store(uri).local_path(uri, dest_dir / f"{table}_{data_referencia}.parquet")

    def staging_uri(self, run_id: str, table: str) -> str:
        return join_uri(self.output_uri, "_staging", run_id, table, PART_FILE)

    def stage(self, local_file: Path, run_id: str, table: str) -> dict[str, Any]:
        """Copy ``local_file`` to this run's staging area and verify it; returns what was staged."""
        staging = self.staging_uri(run_id, table)
        sha, size = self._store(staging).stage(local_file, staging)
        return {"staging": staging, "sha256": sha, "bytes": size}

    def promote(self, staging: str, final: str, sha256: str) -> None:
        """Make ``final`` hold the staged bytes in one atomic step; idempotent once done.

        Locally one ``os.replace`` (the staged file becomes the partition's file); on S3 one
        CopyObject (the staging key is removed later, by ``discard_staging``). A second call after a
        crash finds the staging gone (local) and checks that ``final`` already holds ``sha256``.
        """
        self._store(final).promote(staging, final, sha256)

    def staged_exists(self, staging: str) -> bool:
        return self._store(staging).exists(staging)

    def discard_staging(self, run_id: str) -> None:
        """Remove this run's staging area (after its publication committed, or when it gave up)."""
        root = join_uri(self.output_uri, "_staging", run_id)
        self._store(root).delete_tree(root)

    def delete(self, uri: str) -> None:
        self._store(uri).delete(uri)

    # ---- small JSON documents (manifests, checkpoints) ---------------------------------------
    def write_json(self, uri: str, document: dict[str, Any]) -> None:
        body = json.dumps(document, indent=2, ensure_ascii=False, default=str).encode("utf-8")
        self.write_bytes(uri, body, "application/json")

    def write_bytes(self, uri: str, body: bytes, content_type: str) -> None:
        """Replace ``uri`` with ``body`` in one atomic step: a reader sees the old bytes or the new.

        Locally a temporary file beside it and ``os.replace``; on S3 a single PutObject (an object
        is never visible half-written). Small documents only: the body is held in memory.
        """
        self._store(uri).put_bytes(uri, body, content_type)

    def read_json(self, uri: str) -> dict[str, Any] | None:
        body = self._store(uri).get_bytes(uri)
        return None if body is None else json.loads(body)


_LOCAL = LocalStore()
