"""Where files come from and go to: a local folder or ``s3://bucket/prefix``, behind one interface.

The pipeline only ever sees local paths: inputs are fetched to the work folder and outputs are
published from it. Publication is stage → verify → one atomic swap per partition (``os.replace``
locally, one CopyObject on S3), so readers see the old partition or the new one, never a mix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster_aws.s3 import S3Resource
from pydantic import PrivateAttr, field_validator

from resources.env import EnvValidatedResource

PART_FILE = "part-0.parquet"
MANIFESTS_DIR = "_manifestos"
REPORT_DIR = "relatorio"
REPORT_FILE = "index.html"
SCHEMA_VERSION = 1
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SSE_MODES = ("", "AES256", "aws:kms")


class IncompleteUpload(OSError):
    """An object store kept fewer bytes than were sent: a network fault, worth retrying."""


@dataclass(frozen=True)
class RemoteFile:
    """One ingress object: its URI, name inside the date folder, size, version and arrival time."""

    uri: str
    name: str
    size: int
    version: str  # S3 ETag, or "<mtime_ns>-<size>" for a local file
    last_modified: datetime


@dataclass(frozen=True)
class IngressEntry:
    """One entry of an ingress folder: a file (object) or, when ``relative`` ends in ``/``, a sub-folder."""

    relative: str  # path from the ingress root, '/'-separated, e.g. "2024-03-10/transacoes.csv"
    uri: str
    size: int = 0
    version: str = ""  # S3 ETag, or "<mtime_ns>-<size>" for a local file; "" for a folder
    last_modified: datetime | None = None

    @property
    def is_folder(self) -> bool:
        return self.relative.endswith("/")


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


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ("bucket", "a/b")."""
    rest = uri[len("s3://") :]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValueError(f"URI S3 sem bucket: {uri!r}")
    return bucket, key.strip("/")


def join_uri(base: str, *parts: str) -> str:
    if is_s3(base):
        return "/".join([base.rstrip("/"), *[p.strip("/") for p in parts]])
    return str(Path(base, *parts))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


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

    # ---- S3 plumbing -------------------------------------------------------------------------
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
        base = f"{folder}/" if folder else ""
        if is_s3(self.ingress_uri):
            bucket, prefix = split_s3(self.ingress_uri)
            root = f"{prefix}/" if prefix else ""
            kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": root + base, "Delimiter": "/"}
            if start_after:
                kwargs["StartAfter"] = root + base + start_after
            found: list[IngressEntry] = []
            paginator = self._client().get_paginator("list_objects_v2")
            for page in paginator.paginate(**kwargs):
                for common in page.get("CommonPrefixes", []):
                    found.append(
                        IngressEntry(
                            relative=common["Prefix"][len(root) :], uri=f"s3://{bucket}/{common['Prefix']}"
                        )
                    )
                for obj in page.get("Contents", []):
                    if obj["Key"] == root + base:  # the "folder marker" some tools create
                        continue
                    found.append(
                        IngressEntry(
                            relative=obj["Key"][len(root) :],
                            uri=f"s3://{bucket}/{obj['Key']}",
                            size=int(obj["Size"]),
                            version=obj["ETag"].strip('"'),
                            last_modified=obj["LastModified"].astimezone(UTC),
                        )
                    )
            return sorted(found, key=lambda e: e.relative)
        directory = Path(self.ingress_uri, folder) if folder else Path(self.ingress_uri)
        if not directory.is_dir():
            return []
        found = []
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir():
                    name = entry.name + "/"
                    if name > start_after:
                        found.append(IngressEntry(relative=base + name, uri=entry.path + os.sep))
                elif entry.is_file() and entry.name > start_after:
                    st = entry.stat()
                    found.append(
                        IngressEntry(
                            relative=base + entry.name,
                            uri=entry.path,
                            size=st.st_size,
                            version=f"{st.st_mtime_ns}-{st.st_size}",
                            last_modified=datetime.fromtimestamp(st.st_mtime, tz=UTC),
                        )
                    )
        return sorted(found, key=lambda e: e.relative)

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
        if is_s3(uri):
            bucket, key = split_s3(uri)
            self._client().upload_file(str(local_file), bucket, key, ExtraArgs=self._sse_args() or None)
            return uri
        dest = Path(uri)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{name}.tmp")  # hidden and not *.csv: never picked up half-written
        shutil.copyfile(local_file, tmp)
        os.replace(tmp, dest)
        return uri

    def fetch(self, remote: RemoteFile, dest_dir: Path) -> Path:
        """A local path holding ``remote``'s bytes (downloaded from S3; the file itself when local)."""
        if not is_s3(remote.uri):
            return Path(remote.uri)
        dest_dir.mkdir(parents=True, exist_ok=True)
        bucket, key = split_s3(remote.uri)
        dest = dest_dir / remote.name
        self._client().download_file(bucket, key, str(dest))
        return dest

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
        prefix_marker = "data_referencia="
        root = join_uri(self.output_uri, table)
        dates: list[str] = []
        if is_s3(root):
            bucket, prefix = split_s3(root)
            paginator = self._client().get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix + "/" + prefix_marker):
                for obj in page.get("Contents", []):
                    folder, _, name = obj["Key"][len(prefix) + 1 :].partition("/")
                    if name == PART_FILE:
                        dates.append(folder[len(prefix_marker) :])
        elif Path(root).is_dir():
            dates = [
                p.parent.name[len(prefix_marker) :]
                for p in Path(root).glob(f"{prefix_marker}*/{PART_FILE}")
            ]
        return sorted(dates)

    def fetch_published(self, table: str, data_referencia: str, dest_dir: Path) -> Path:
        """A local path holding D's published ``table`` file (downloaded from S3; the file itself locally)."""
        uri = self.table_uri(table, data_referencia)
        if not is_s3(uri):
            return Path(uri)
        dest_dir.mkdir(parents=True, exist_ok=True)
        bucket, key = split_s3(uri)
        dest = dest_dir / f"{table}_{data_referencia}.parquet"
        self._client().download_file(bucket, key, str(dest))
        return dest

    def staging_uri(self, run_id: str, table: str) -> str:
        return join_uri(self.output_uri, "_staging", run_id, table, PART_FILE)

    def stage(self, local_file: Path, run_id: str, table: str) -> dict[str, Any]:
        """Copy ``local_file`` to this run's staging area and verify it; returns what was staged."""
        sha, size = sha256_file(local_file), local_file.stat().st_size
        staging = self.staging_uri(run_id, table)
        if is_s3(staging):
            bucket, key = split_s3(staging)
            client = self._client()
            client.upload_file(str(local_file), bucket, key, ExtraArgs=self._sse_args() or None)
            head = client.head_object(Bucket=bucket, Key=key)
            if int(head["ContentLength"]) != size:
                raise IncompleteUpload(f"upload incompleto de {staging}: {head['ContentLength']} != {size} bytes")
        else:
            staging_path = Path(staging)
            staging_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local_file, staging_path)
            if sha256_file(staging_path) != sha:
                raise OSError(f"cópia corrompida em {staging_path}")
        return {"staging": staging, "sha256": sha, "bytes": size}

    def promote(self, staging: str, final: str, sha256: str) -> None:
        """Make ``final`` hold the staged bytes in one atomic step; idempotent once done.

        Locally one ``os.replace`` (the staged file becomes the partition's file); on S3 one
        CopyObject (the staging key is removed later, by ``discard_staging``). A second call after a
        crash finds the staging gone (local) and checks that ``final`` already holds ``sha256``.
        """
        if is_s3(final):
            s_bucket, s_key = split_s3(staging)
            f_bucket, f_key = split_s3(final)
            self._client().copy_object(
                Bucket=f_bucket, Key=f_key, CopySource={"Bucket": s_bucket, "Key": s_key}, **self._sse_args()
            )
            return
        staging_path, final_path = Path(staging), Path(final)
        if staging_path.exists():
            final_path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging_path, final_path)
        elif not final_path.exists() or sha256_file(final_path) != sha256:
            raise OSError(f"publicação interrompida sem o arquivo preparado: {staging} (destino {final})")

    def staged_exists(self, staging: str) -> bool:
        if is_s3(staging):
            bucket, key = split_s3(staging)
            client = self._client()
            try:
                client.head_object(Bucket=bucket, Key=key)
            except client.exceptions.ClientError:
                return False
            return True
        return Path(staging).exists()

    def discard_staging(self, run_id: str) -> None:
        """Remove this run's staging area (after its publication committed, or when it gave up)."""
        root = join_uri(self.output_uri, "_staging", run_id)
        if is_s3(root):
            bucket, prefix = split_s3(root)
            client = self._client()
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
                for obj in page.get("Contents", []):
                    client.delete_object(Bucket=bucket, Key=obj["Key"])
            return
        shutil.rmtree(Path(root), ignore_errors=True)

    def delete(self, uri: str) -> None:
        if is_s3(uri):
            bucket, key = split_s3(uri)
            self._client().delete_object(Bucket=bucket, Key=key)
            return
        Path(uri).unlink(missing_ok=True)

    # ---- small JSON documents (manifests, checkpoints) ---------------------------------------
    def write_json(self, uri: str, document: dict[str, Any]) -> None:
        body = json.dumps(document, indent=2, ensure_ascii=False, default=str).encode("utf-8")
        self.write_bytes(uri, body, "application/json")

    def write_bytes(self, uri: str, body: bytes, content_type: str) -> None:
        """Replace ``uri`` with ``body`` in one atomic step: a reader sees the old bytes or the new.

        Locally a temporary file beside it and ``os.replace``; on S3 a single PutObject (an object
        is never visible half-written). Small documents only: the body is held in memory.
        """
        if is_s3(uri):
            bucket, key = split_s3(uri)
            self._client().put_object(
                Bucket=bucket, Key=key, Body=body, ContentType=content_type, **self._sse_args()
            )
            return
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)

    def read_json(self, uri: str) -> dict[str, Any] | None:
        if is_s3(uri):
            bucket, key = split_s3(uri)
            client = self._client()
            try:
                body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            except client.exceptions.NoSuchKey:
                return None
            return json.loads(body)
        path = Path(uri)
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
