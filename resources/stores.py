"""The few things the pipeline asks of a place that holds files: a local folder or an S3 bucket.

``ReconStorage`` (storage.py) decides *what* goes *where* (ingress, tables, manifests, staging);
a store only knows *how* to list, read, write, copy and delete there. One class per kind of place,
so no method branches on the URI scheme; ``store_for`` picks the class from the URI.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciliation_assets.engine.files import sha256_file

COPY_CHUNK = 8 * 1024 * 1024


class IncompleteUpload(OSError):
    """An object store kept fewer bytes than were sent: a network fault, worth retrying."""


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


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ("bucket", "a/b")."""
    rest = uri[len("s3://") :]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValueError(f"URI S3 sem bucket: {uri!r}")
    return bucket, key.strip("/")


class Store(ABC):
    """Primitives over URIs of one kind. Every write replaces its target in one atomic step."""

    @abstractmethod
    def children(self, root: str, folder: str, start_after: str) -> list[IngressEntry]:
        """Direct children of ``root/folder`` (sub-folders end in ``/``), relative to ``root``,
        keeping those whose name inside the folder sorts after ``start_after``; sorted."""

    @abstractmethod
    def files_under(self, folder: str, name_prefix: str) -> list[str]:
        """Paths ('/'-separated, relative to ``folder``) of every file below it whose relative
        path starts with ``name_prefix``."""

    @abstractmethod
    def upload(self, local_file: Path, uri: str) -> None:
        """Make ``uri`` hold ``local_file``'s bytes; a reader never sees it half-written."""

    @abstractmethod
    def local_path(self, uri: str, dest: Path) -> Path:
        """A local path holding ``uri``'s bytes (downloaded to ``dest`` when remote)."""

    @abstractmethod
    def stage(self, local_file: Path, uri: str) -> tuple[str, int]:
        """Copy ``local_file`` to ``uri`` and verify what arrived; returns (sha256, bytes) of the source."""

    @abstractmethod
    def promote(self, staging: str, final: str, sha256: str) -> None:
        """Make ``final`` hold the staged bytes atomically; idempotent once done."""

    @abstractmethod
    def exists(self, uri: str) -> bool: ...

    @abstractmethod
    def delete(self, uri: str) -> None: ...

    @abstractmethod
    def delete_tree(self, uri: str) -> None: ...

    @abstractmethod
    def put_bytes(self, uri: str, body: bytes, content_type: str) -> None: ...

    @abstractmethod
    def get_bytes(self, uri: str) -> bytes | None:
        """The object's bytes, or None when there is none."""


class LocalStore(Store):
    """A folder on this machine: ``os.scandir``, copies and ``os.replace``."""

    def children(self, root: str, folder: str, start_after: str) -> list[IngressEntry]:
        base = f"{folder}/" if folder else ""
        directory = Path(root, folder) if folder else Path(root)
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

    def files_under(self, folder: str, name_prefix: str) -> list[str]:
        root = Path(folder)
        if not root.is_dir():
            return []
        return sorted(
            rel
            for p in root.rglob("*")
            if p.is_file() and (rel := p.relative_to(root).as_posix()).startswith(name_prefix)
        )

    def upload(self, local_file: Path, uri: str) -> None:
        dest = Path(uri)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")  # hidden and not *.csv: never picked up half-written
        shutil.copyfile(local_file, tmp)
        os.replace(tmp, dest)

    def local_path(self, uri: str, dest: Path) -> Path:
        return Path(uri)

    def stage(self, local_file: Path, uri: str) -> tuple[str, int]:
        """One read of the source (hashed as it is copied), one write; the copy's size is checked."""
        target = Path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with local_file.open("rb") as src, target.open("wb") as dst:
            while chunk := src.read(COPY_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        if target.stat().st_size != size:
            raise OSError(f"cópia incompleta em {target}: {target.stat().st_size} != {size} bytes")
        return digest.hexdigest(), size

    def promote(self, staging: str, final: str, sha256: str) -> None:
        staging_path, final_path = Path(staging), Path(final)
        if staging_path.exists():
            final_path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging_path, final_path)
        elif not final_path.exists() or sha256_file(final_path) != sha256:
            raise OSError(f"publicação interrompida sem o arquivo preparado: {staging} (destino {final})")

    def exists(self, uri: str) -> bool:
        return Path(uri).exists()

    def delete(self, uri: str) -> None:
        Path(uri).unlink(missing_ok=True)

    def delete_tree(self, uri: str) -> None:
        shutil.rmtree(Path(uri), ignore_errors=True)

    def put_bytes(self, uri: str, body: bytes, content_type: str) -> None:
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)

    def get_bytes(self, uri: str) -> bytes | None:
        path = Path(uri)
        return path.read_bytes() if path.exists() else None


class S3Store(Store):
    """A bucket through boto3: paginated listings, single PUTs and CopyObject (each atomic)."""

    def __init__(self, client: Callable[[], Any], sse_args: dict[str, str]):
        self._client = client  # lazy: building a boto3 client costs ~0.1-0.2 s
        self._sse = sse_args

    def children(self, root: str, folder: str, start_after: str) -> list[IngressEntry]:
        base = f"{folder}/" if folder else ""
        bucket, prefix = split_s3(root)
        top = f"{prefix}/" if prefix else ""
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": top + base, "Delimiter": "/"}
        if start_after:
            kwargs["StartAfter"] = top + base + start_after
        found: list[IngressEntry] = []
        for page in self._client().get_paginator("list_objects_v2").paginate(**kwargs):
            for common in page.get("CommonPrefixes", []):
                found.append(
                    IngressEntry(
                        relative=common["Prefix"][len(top) :], uri=f"s3://{bucket}/{common['Prefix']}"
                    )
                )
            for obj in page.get("Contents", []):
                if obj["Key"] == top + base:  # the "folder marker" some tools create
                    continue
                found.append(
                    IngressEntry(
                        relative=obj["Key"][len(top) :],
                        uri=f"s3://{bucket}/{obj['Key']}",
                        size=int(obj["Size"]),
                        version=obj["ETag"].strip('"'),
                        last_modified=obj["LastModified"].astimezone(UTC),
                    )
                )
        return sorted(found, key=lambda e: e.relative)

    def files_under(self, folder: str, name_prefix: str) -> list[str]:
        bucket, prefix = split_s3(folder)
        top = f"{prefix}/" if prefix else ""
        found: list[str] = []
        for page in (
            self._client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=top + name_prefix)
        ):
            found.extend(obj["Key"][len(top) :] for obj in page.get("Contents", []))
        return sorted(found)

    def upload(self, local_file: Path, uri: str) -> None:
        bucket, key = split_s3(uri)
        self._client().upload_file(str(local_file), bucket, key, ExtraArgs=self._sse or None)

    def local_path(self, uri: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        bucket, key = split_s3(uri)
        self._client().download_file(bucket, key, str(dest))
        return dest

    def stage(self, local_file: Path, uri: str) -> tuple[str, int]:
        sha, size = sha256_file(local_file), local_file.stat().st_size
        bucket, key = split_s3(uri)
        client = self._client()
        client.upload_file(str(local_file), bucket, key, ExtraArgs=self._sse or None)
        head = client.head_object(Bucket=bucket, Key=key)
        if int(head["ContentLength"]) != size:
            raise IncompleteUpload(f"upload incompleto de {uri}: {head['ContentLength']} != {size} bytes")
        return sha, size

    def promote(self, staging: str, final: str, sha256: str) -> None:
        """One CopyObject (the staging key is removed later, with the staging area)."""
        s_bucket, s_key = split_s3(staging)
        f_bucket, f_key = split_s3(final)
        self._client().copy_object(
            Bucket=f_bucket, Key=f_key, CopySource={"Bucket": s_bucket, "Key": s_key}, **self._sse
        )

    def exists(self, uri: str) -> bool:
        bucket, key = split_s3(uri)
        client = self._client()
        try:
            client.head_object(Bucket=bucket, Key=key)
        except client.exceptions.ClientError:
            return False
        return True

    def delete(self, uri: str) -> None:
        bucket, key = split_s3(uri)
        self._client().delete_object(Bucket=bucket, Key=key)

    def delete_tree(self, uri: str) -> None:
        bucket, prefix = split_s3(uri)
        client = self._client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
            for obj in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=obj["Key"])

    def put_bytes(self, uri: str, body: bytes, content_type: str) -> None:
        bucket, key = split_s3(uri)
        self._client().put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, **self._sse)

    def get_bytes(self, uri: str) -> bytes | None:
        bucket, key = split_s3(uri)
        client = self._client()
        try:
            return client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except client.exceptions.NoSuchKey:
            return None
