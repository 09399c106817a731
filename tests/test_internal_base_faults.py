"""Faults of the internal Postgres base: which are transient (``InternalBaseUnavailable``, retried) and
which are configuration errors (plain ``InternalBaseError``, never retried), and how long a hang lasts.

The "black hole" is a loopback listener that accepts the TCP connection and never answers: what a
half-dead server or a firewall dropping packets after the handshake looks like to libpq.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import psycopg2
import pytest

from reconciliation_assets.engine.sql_models import EngineSettings
from resources.internal_base import (
    DuckDBSource,
    InternalBase,
    InternalBaseError,
    InternalBaseUnavailable,
    PostgresSource,
)
from tests import servers
from tests.test_postgres_snapshot import INICIO, load_postgres, snapshot

pg_server, pg_url = servers.pg_server, servers.pg_url


class Listener:
    """A loopback TCP server; ``reply`` decides what each accepted connection gets (None: silence)."""

    def __init__(self, reply: bytes | None = None):
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)
            if self.reply is not None:
                try:
                    (length,) = struct.unpack("!i", conn.recv(4))
                    conn.recv(length - 4)  # the startup packet (sslmode=disable: no SSLRequest)
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def black_hole() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_black_hole_fails_within_connect_timeout_as_unavailable(black_hole, tmp_path):
    url = f"postgresql://recon:s3cr3t@127.0.0.1:{black_hole.port}/financas"
    started = time.monotonic()
    with pytest.raises(InternalBaseUnavailable) as failed:
        snapshot(InternalBase(db_url=url, connect_timeout_s=2), tmp_path, [])
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 6, elapsed
    assert "sem resposta em 2s (connect_timeout)" in str(failed.value)
    assert "127.0.0.1" in str(failed.value) and "s3cr3t" not in str(failed.value)
    assert black_hole.accepted  # libpq did reach the listener: this is a hang, not a refusal


def test_a_connect_timeout_in_the_url_wins(black_hole, tmp_path):
    url = f"postgresql://recon@127.0.0.1:{black_hole.port}/financas?connect_timeout=3"
    started = time.monotonic()
    with pytest.raises(InternalBaseUnavailable, match=r"sem resposta em 3s \(connect_timeout\)"):
        snapshot(InternalBase(db_url=url, connect_timeout_s=60), tmp_path, [])
    assert 2.5 <= time.monotonic() - started < 8


def test_connection_refused_is_unavailable(tmp_path):
    url = f"postgresql://recon@127.0.0.1:{_free_port()}/financas"
    with pytest.raises(InternalBaseUnavailable, match="Connection refused"):
        snapshot(InternalBase(db_url=url, connect_timeout_s=2), tmp_path, [])


def test_bad_credentials_are_a_configuration_error_not_unavailable(tmp_path):
    refusal = servers._fatal('password authentication failed for user "recon"')
    fake = Listener(reply=refusal)
    try:
        url = f"postgresql://recon:errada@127.0.0.1:{fake.port}/financas?sslmode=disable"
        with pytest.raises(InternalBaseError, match="password authentication failed") as failed:
            snapshot(InternalBase(db_url=url), tmp_path, [])
    finally:
        fake.close()
    assert type(failed.value) is InternalBaseError
    assert "errada" not in str(failed.value)


def test_unknown_role_is_a_configuration_error(pg_url, tmp_path):
    url = pg_url.replace("postgresql://postgres@", "postgresql://ninguem@")
    with pytest.raises(InternalBaseError, match='role "ninguem" does not exist') as failed:
        snapshot(InternalBase(db_url=url), tmp_path, [])
    assert type(failed.value) is InternalBaseError


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?opcao_inexistente=1", "RECON_INTERNAL_DB_URL inválida"),
        ("?sslmode=sempre", 'invalid sslmode value: "sempre"'),
    ],
)
def test_a_bad_url_is_a_configuration_error(tmp_path, query, message):
    url = f"postgresql://recon@127.0.0.1:{_free_port()}/financas{query}"
    with pytest.raises(InternalBaseError, match=message) as failed:
        snapshot(InternalBase(db_url=url), tmp_path, [])
    assert type(failed.value) is InternalBaseError


def _slow_table(pg_url: str) -> None:
    load_postgres(pg_url, [("F1", "O1", "Ana", "A1", INICIO, "1.00")])
    conn = psycopg2.connect(pg_url)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE VIEW lenta AS SELECT t.* FROM transacoes_internas t, pg_sleep(30)")
    conn.close()


def test_the_server_closing_the_connection_mid_copy_is_unavailable(pg_url, tmp_path):
    _slow_table(pg_url)

    def kill_backend_soon(conn) -> None:
        pid = conn.get_backend_pid()

        def kill() -> None:
            admin = psycopg2.connect(pg_url)
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute("select pg_terminate_backend(%s)", (pid,))
            admin.close()

        threading.Timer(1.0, kill).start()

    started = time.monotonic()
    with pytest.raises(InternalBaseUnavailable, match="indisponível durante a leitura") as failed:
        InternalBase(db_url=pg_url, table="lenta").snapshot(
            INICIO,
            INICIO,
            _ordens(tmp_path),
            tmp_path / "out.parquet",
            _engine(tmp_path),
            on_connect=kill_backend_soon,
        )
    assert time.monotonic() - started < 10
    assert "terminating connection" in str(failed.value) or "server closed" in str(failed.value)


def test_cancel_from_another_thread_stops_the_copy(pg_url, tmp_path):
    _slow_table(pg_url)
    connections = []

    def register(conn) -> None:
        connections.append(conn)
        threading.Timer(1.0, conn.cancel).start()  # a deadline elsewhere

    started = time.monotonic()
    with pytest.raises(
        InternalBaseUnavailable, match="foi cancelada: canceling statement due to user request"
    ):
        InternalBase(db_url=pg_url, table="lenta").snapshot(
            INICIO,
            INICIO,
            _ordens(tmp_path),
            tmp_path / "out.parquet",
            _engine(tmp_path),
            on_connect=register,
        )
    assert time.monotonic() - started < 10
    assert len(connections) == 1 and connections[0].closed
    assert not (tmp_path / "out.parquet.copy.csv").exists()


def _ordens(tmp_path):
    from tests.test_postgres_snapshot import ordens

    return ordens(tmp_path, [])


def _engine(tmp_path):
    from tests.test_postgres_snapshot import engine

    return engine(tmp_path)


def test_the_connection_carries_connect_timeout_and_keepalives(pg_url, tmp_path):
    load_postgres(pg_url, [("F1", "O1", "Ana", "A1", INICIO, "1.00")])
    seen = {}

    def record(conn) -> None:
        seen.update(conn.get_dsn_parameters())

    InternalBase(db_url=pg_url, connect_timeout_s=7).snapshot(
        INICIO, INICIO, _ordens(tmp_path), tmp_path / "out.parquet", _engine(tmp_path), on_connect=record
    )
    assert {
        k: seen.get(k)
        for k in (
            "connect_timeout",
            "keepalives",
            "keepalives_idle",
            "keepalives_interval",
            "keepalives_count",
        )
    } == {
        "connect_timeout": "7",
        "keepalives": "1",
        "keepalives_idle": "30",
        "keepalives_interval": "10",
        "keepalives_count": "3",
    }


def test_the_url_scheme_picks_the_source_once_and_an_unknown_one_is_a_clear_error(tmp_path):
    duck = InternalBase(db_url="duckdb:////data/base.duckdb", table="t").source()
    assert isinstance(duck, DuckDBSource) and duck.describe() == "duckdb:/data/base.duckdb#t"
    for scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
        pg = InternalBase(db_url=f"{scheme}://u:s3cret@db.example:5433/recon", table="t").source()
        assert isinstance(pg, PostgresSource)
        assert pg.describe() == f"{scheme}://db.example:5433/recon#t"  # no user, no password
    base = InternalBase(db_url="mysql://u:s3cret@db.example/recon", table="t")
    with pytest.raises(InternalBaseError, match=r"^RECON_INTERNAL_DB_URL não suportada \(esquema 'mysql'\)"):
        base.snapshot(INICIO, INICIO, tmp_path / "o.parquet", tmp_path / "b.parquet", EngineSettings())
    assert "s3cret" not in base.describe() and base.describe() == "mysql://db.example/recon#t"
