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

import dagster as dg
from dagster_aws.s3 import S3Resource

PART_FILE = "part-0.parquet"
MANIFEST_FILE = "_manifest.json"
SCHEMA_VERSION = 1
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class RemoteFile:
    """One ingress object: its URI, name inside the date folder, size, version and arrival time."""

    uri: str
    name: str
    size: int
    version: str  # S3 ETag, or "<mtime_ns>-<size>" for a local file
    last_modified: datetime


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


class ReconStorage(dg.ConfigurableResource):
    """Ingress, output and checkpoint locations (local paths or ``s3://``) and the local work folder."""

    ingress_uri: str = "recon_data/ingress"
    output_uri: str = "recon_data/output"
    checkpoint_uri: str = "recon_data/checkpoints"
    work_dir: str = "recon_data/work"
    s3: S3Resource
    s3_sse: str = ""  # "", "AES256" (SSE-S3) or "aws:kms" (SSE-KMS)
    s3_sse_kms_key_id: str = ""

    # ---- S3 plumbing -------------------------------------------------------------------------
    def _client(self) -> Any:
        return self.s3.get_client()

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

    def list_day_files(self, data_referencia: str) -> list[RemoteFile]:
        """Every ``*.csv`` directly under ``<ingress>/D/``, in file-name order."""
        if not _DATE_DIR.match(data_referencia):
            raise ValueError(f"data de referência inválida: {data_referencia!r}")
        if is_s3(self.ingress_uri):
            bucket, prefix = split_s3(self.ingress_uri)
            day_prefix = f"{prefix}/{data_referencia}/" if prefix else f"{data_referencia}/"
            found = []
            paginator = self._client().get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=day_prefix, Delimiter="/"):
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(day_prefix) :]
                    if name.lower().endswith(".csv") and "/" not in name:
                        found.append(
                            RemoteFile(
                                uri=f"s3://{bucket}/{obj['Key']}",
                                name=name,
                                size=int(obj["Size"]),
                                version=obj["ETag"].strip('"'),
                                last_modified=obj["LastModified"].astimezone(UTC),
                            )
                        )
            return sorted(found, key=lambda f: f.name)
        folder = Path(self.ingress_uri, data_referencia)
        if not folder.is_dir():
            return []
        found = []
        for path in folder.iterdir():
            if path.is_file() and path.name.lower().endswith(".csv"):
                st = path.stat()
                found.append(
                    RemoteFile(
                        uri=str(path),
                        name=path.name,
                        size=st.st_size,
                        version=f"{st.st_mtime_ns}-{st.st_size}",
                        last_modified=datetime.fromtimestamp(st.st_mtime, tz=UTC),
                    )
                )
        return sorted(found, key=lambda f: f.name)

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

    def publish(
        self, local_file: Path, table: str, data_referencia: str, run_id: str, rows: int
    ) -> dict[str, Any]:
        """Replace one date's partition of ``table`` with ``local_file`` atomically; returns the manifest."""
        manifest = {
            "tabela": table,
            "data_referencia": data_referencia,
            "linhas": rows,
            "sha256": sha256_file(local_file),
            "bytes": local_file.stat().st_size,
            "job_id": run_id,
            "schema_version": SCHEMA_VERSION,
            "publicado_em": datetime.now(tz=UTC).isoformat(),
        }
        staging = join_uri(self.output_uri, "_staging", run_id, table, PART_FILE)
        final = self.table_uri(table, data_referencia)
        manifest_uri = join_uri(self.partition_uri(table, data_referencia), MANIFEST_FILE)
        if is_s3(self.output_uri):
            client = self._client()
            s_bucket, s_key = split_s3(staging)
            f_bucket, f_key = split_s3(final)
            client.upload_file(str(local_file), s_bucket, s_key, ExtraArgs=self._sse_args() or None)
            head = client.head_object(Bucket=s_bucket, Key=s_key)
            if int(head["ContentLength"]) != manifest["bytes"]:
                raise OSError(
                    f"upload incompleto de {staging}: {head['ContentLength']} != {manifest['bytes']} bytes"
                )
            client.copy_object(
                Bucket=f_bucket, Key=f_key, CopySource={"Bucket": s_bucket, "Key": s_key}, **self._sse_args()
            )
            client.delete_object(Bucket=s_bucket, Key=s_key)
        else:
            staging_path = Path(staging)
            staging_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local_file, staging_path)
            if sha256_file(staging_path) != manifest["sha256"]:
                raise OSError(f"cópia corrompida em {staging_path}")
            Path(final).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging_path, final)
            shutil.rmtree(Path(self.output_uri, "_staging", run_id), ignore_errors=True)
        self.write_json(manifest_uri, manifest)
        return manifest

    # ---- small JSON documents (manifests, checkpoints) ---------------------------------------
    def write_json(self, uri: str, document: dict[str, Any]) -> None:
        body = json.dumps(document, indent=2, ensure_ascii=False, default=str).encode("utf-8")
        if is_s3(uri):
            bucket, key = split_s3(uri)
            self._client().put_object(
                Bucket=bucket, Key=key, Body=body, ContentType="application/json", **self._sse_args()
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
