"""Real servers for the tests, started by the tests themselves and stopped when the session ends.

- ``pg_server``: a Postgres 16 (``pgserver``) in a temporary folder, unix socket only; ``pg_url``
  gives each test its own fresh UTF8 database and drops it afterwards.
- ``pg_tls_server``: TLS-only TCP access to ``pg_server`` on a loopback port (self-signed
  certificate, see ``TlsFront``), to prove ``sslmode``/``sslrootcert`` travel from the URL to the
  connection. Started only when a test asks for it.
- ``s3_server``: moto's S3 server on 127.0.0.1 (a free port); ``s3_env`` points the ``AWS_*``
  variables at it and ``s3_bucket`` creates an empty bucket per test.

Import the fixtures you use into the test module (``from tests.servers import pg_url  # noqa: F401``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import select
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import boto3
import psycopg2
import pytest


def _pgserver():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' RuntimeDirWarning when XDG_RUNTIME_DIR is unset
        import pgserver

    return pgserver


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """Postgres in a fresh folder under the system temp dir, deleted at the end of the session.

    Not under pytest's basetemp: pytest resets ``/tmp/pytest-of-<user>`` to mode 0700 whenever a
    pytest session starts, and Postgres (run as the ``pgserver`` user when we are root) would lose
    access to its own data directory mid-run.
    """
    pgserver = _pgserver()
    folder = Path(tempfile.mkdtemp(prefix="recon-pg-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(folder / "data", cleanup_mode="delete")
        try:
            yield server
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def pg_socket_dir(server: object) -> str:
    return str(server.get_postmaster_info().socket_dir)  # type: ignore[attr-defined]


def pg_admin_url(server: object, database: str = "postgres") -> str:
    return f"postgresql://postgres@/{database}?host={quote(pg_socket_dir(server))}"


def create_database(admin_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:16]}"
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    conn.close()
    return name


def drop_database(admin_url: str, name: str) -> None:
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture
def pg_url(pg_server: object) -> Iterator[str]:
    """A fresh, empty UTF8 database: ``postgresql://postgres@/<db>?host=<socket dir>``."""
    admin = pg_admin_url(pg_server)
    name = create_database(admin)
    try:
        yield pg_admin_url(pg_server, name)
    finally:
        drop_database(admin, name)


def self_signed_certificate(cert: Path, key: Path) -> None:
    """A self-signed certificate for 127.0.0.1 that is also its own CA (for ``sslmode=verify-full``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


_SSL_REQUEST, _GSSENC_REQUEST = 80877103, 80877104


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


def _fatal(message: str) -> bytes:
    """A Postgres ErrorResponse (FATAL, SQLSTATE 28000 invalid_authorization_specification)."""
    fields = b"SFATAL\0VFATAL\0C28000\0M" + message.encode() + b"\0\0"
    return b"E" + struct.pack("!i", len(fields) + 4) + fields


class TlsFront:
    """A loopback TCP front for the unix-socket Postgres that speaks the protocol's TLS negotiation.

    pgserver's bundled build has no OpenSSL, so TLS is terminated here, as a pooler or proxy in
    front of a database would: an ``SSLRequest`` gets ``S`` and a TLS handshake, then bytes are
    relayed unchanged; a plain startup (``sslmode=disable``) gets the refusal Postgres itself sends
    for a ``hostnossl … reject`` rule.
    """

    def __init__(self, unix_socket: str, cert: Path, key: Path):
        self.unix_socket = unix_socket
        self.cert = cert
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert), str(key))
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.host = "127.0.0.1"
        self.port = int(self.listener.getsockname()[1])
        self.tls_sessions = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            while True:
                length, code = struct.unpack("!ii", _recv_exact(conn, 8))
                if code == _GSSENC_REQUEST:
                    conn.sendall(b"N")
                    continue
                if code != _SSL_REQUEST:
                    _recv_exact(conn, length - 8)
                    conn.sendall(_fatal('pg_hba.conf rejects connection for host "127.0.0.1", no encryption'))
                    return
                conn.sendall(b"S")
                tls = self.context.wrap_socket(conn, server_side=True)
                self.tls_sessions += 1
                self._relay(tls)
                return
        except (OSError, ConnectionError):
            return
        finally:
            conn.close()

    def _relay(self, tls: ssl.SSLSocket) -> None:
        backend = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        backend.connect(self.unix_socket)
        try:
            while True:
                readable, _, _ = select.select([tls, backend], [], [], 30)
                if not readable:
                    return
                if tls in readable:
                    data = tls.recv(65536)
                    while data and tls.pending():
                        data += tls.recv(tls.pending())
                    if not data:
                        return
                    backend.sendall(data)
                if backend in readable:
                    data = backend.recv(65536)
                    if not data:
                        return
                    tls.sendall(data)
        finally:
            backend.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="session")
def pg_tls_server(pg_server: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsFront]:
    """TLS-only TCP access to ``pg_server`` at ``.host:.port``; ``.cert`` is the CA for verify-full."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "server.crt", folder / "server.key"
    self_signed_certificate(cert, key)
    front = TlsFront(os.path.join(pg_socket_dir(pg_server), ".s.PGSQL.5432"), cert, key)
    try:
        yield front
    finally:
        front.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server on loopback; yields its endpoint URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The standard AWS variables pointing at the moto server (what an operator would export)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    return s3_server


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def s3_bucket(s3_env: str) -> str:
    """A new, empty bucket on the moto server."""
    name = f"recon-{uuid.uuid4().hex[:12]}"
    s3_client(s3_env).create_bucket(Bucket=name)
    return name


def wait_for(predicate, timeout: float, what: str, log: Path | None = None):
    """Poll ``predicate`` every 0.2 s until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}" + (f":\n{tail}" if tail else ""))
