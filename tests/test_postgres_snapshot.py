"""The internal base on a real Postgres: same Parquet as the DuckDB path, SPEC scope, connection settings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import psycopg2
import pytest

from reconciliation_assets.engine.sql_models import EngineSettings
from resources.internal_base import InternalBase, InternalBaseError, InternalBaseUnavailable
from resources.postgres_snapshot import libpq_url, redact
from tests import servers
from tests.chain import make_base
from tests.servers import self_signed_certificate

# The server fixtures (tests/servers.py), imported into this module.
pg_server, pg_url, pg_tls_server = servers.pg_server, servers.pg_url, servers.pg_tls_server

INICIO, FIM = date(2024, 3, 4), date(2024, 3, 9)
COLUMNS = "fornecedor_id, ordem_id, nome, ativo_id, data, valor"

# (fornecedor_id, ordem_id, nome, ativo_id, data, valor) and whether it is in scope for a file
# covering [INICIO, FIM] whose validated ordem_ids are FILE_IDS.
ROWS = [
    (("F1", "IN-FIRST", "Ana", "A1", INICIO, "10.00"), True),  # first day of the coverage
    (("F1", "IN-LAST", "Ana", "A1", FIM, "-0.01"), True),  # last day of the coverage
    (("F1", "OUT-BEFORE", "Ana", "A1", date(2024, 3, 3), "1.00"), False),  # the day before
    (("F1", "OUT-AFTER", "Ana", "A1", date(2024, 3, 10), "1.00"), False),  # the day after
    (("F1", "MATCH-OLD", "Ana", "A1", date(2023, 12, 31), "7.77"), True),  # in the file, dated long ago
    (("F1", "  JOSE\u0301 ", "José", "A1", date(2024, 1, 2), "3.00"), True),  # NFD + spaces = "JOSÉ"
    (("F1", "\tTAB\u00a0", "Tab", "A1", date(2024, 1, 2), "4.00"), True),  # tab + no-break space = "TAB"
    (("F1", "tab", "Tab", "A1", date(2024, 1, 2), "4.00"), False),  # no case folding
    (("F1", "NO-DATE", None, None, None, None), True),  # matched, every other field NULL
    (("", "EMPTY", "", "", date(2024, 3, 5), "0.00"), True),  # empty strings are not NULL
    (("F2", "NULLS", None, "A2", date(2024, 3, 5), "2.50"), True),  # NULL nome inside the coverage
    (
        ("F3", "QUOTED", 'Souza; "Filho", Jr\nsegunda linha', "A3", date(2024, 3, 6), "1234567890123456.78"),
        True,
    ),
    ((None, None, "sem id", "A4", date(2024, 3, 7), "5.00"), True),  # NULL ordem_id inside the coverage
    ((None, None, "sem id fora", "A4", date(2024, 2, 1), "5.00"), False),
]
FILE_IDS = ["IN-FIRST", "MATCH-OLD", "JOSÉ", "TAB", "NO-DATE", "NOT-IN-BASE"]


def load_postgres(
    url: str, rows: list[tuple], table: str = "transacoes_internas", valor: str = "numeric(18,2)"
):
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {table} (fornecedor_id text, ordem_id text, nome text, ativo_id text, "
            f"data date, valor {valor})"
        )
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s)", rows)
    conn.close()


def ordens(tmp: Path, ids: list[str]) -> Path:
    path = tmp / "validadas.parquet"
    con = duckdb.connect()
    con.execute("CREATE TABLE v (ordem_id VARCHAR)")
    if ids:
        con.executemany("INSERT INTO v VALUES (?)", [(i,) for i in ids])
    con.execute(f"COPY v TO '{path}' (FORMAT parquet)")
    con.close()
    return path


def engine(tmp: Path) -> EngineSettings:
    return EngineSettings(memory_limit="512MB", threads=1, temp_dir=str(tmp / "duck_tmp"))


def read(path: Path) -> list[tuple]:
    return duckdb.sql(f"SELECT {COLUMNS} FROM read_parquet('{path}') ORDER BY ALL").fetchall()


def schema(path: Path) -> list[tuple]:
    return [(r[0], r[1]) for r in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]


def snapshot(base: InternalBase, tmp: Path, ids: list[str], inicio=INICIO, fim=FIM, name="out") -> Path:
    out = tmp / f"{name}.parquet"
    base.snapshot(inicio, fim, ordens(tmp, ids), out, engine(tmp))
    return out


def test_postgres_gives_the_same_parquet_as_duckdb_and_the_spec_scope(pg_url, tmp_path):
    rows = [r for r, _ in ROWS]
    load_postgres(pg_url, rows)
    make_base(tmp_path / "base.duckdb", rows)
    pg_out = snapshot(InternalBase(db_url=pg_url), tmp_path, FILE_IDS, name="pg")
    duck_out = snapshot(
        InternalBase(db_url=f"duckdb:///{tmp_path / 'base.duckdb'}"), tmp_path, FILE_IDS, name="duck"
    )

    expected = [tuple(v) for v, in_scope in ROWS if in_scope]
    got = read(pg_out)
    assert got == read(duck_out)
    assert (
        schema(pg_out)
        == schema(duck_out)
        == [
            ("fornecedor_id", "VARCHAR"),
            ("ordem_id", "VARCHAR"),
            ("nome", "VARCHAR"),
            ("ativo_id", "VARCHAR"),
            ("data", "DATE"),
            ("valor", "VARCHAR"),
        ]
    )
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    # NULL and the empty string stay apart, field by field.
    by_id = {r[1]: r for r in got}
    assert by_id["EMPTY"] == ("", "EMPTY", "", "", date(2024, 3, 5), "0.00")
    assert by_id["NULLS"] == ("F2", "NULLS", None, "A2", date(2024, 3, 5), "2.50")
    assert by_id["NO-DATE"] == ("F1", "NO-DATE", None, None, None, None)
    assert by_id["QUOTED"][2] == 'Souza; "Filho", Jr\nsegunda linha'
    assert by_id["QUOTED"][5] == "1234567890123456.78"
    assert by_id["  JOSE\u0301 "][1] == "  JOSE\u0301 "  # stored as is; base_interna normalises later


def test_valor_keeps_every_stored_digit(pg_url, tmp_path):
    rows = [("F1", "O1", "Ana", "A1", INICIO, "1.005"), ("F1", "O2", "Ana", "A1", INICIO, "-2.0000")]
    load_postgres(pg_url, rows, valor="numeric(18,4)")
    make_base(tmp_path / "base.duckdb", rows, valor_type="DECIMAL(18,4)")
    pg_out = snapshot(InternalBase(db_url=pg_url), tmp_path, [], name="pg")
    duck_out = snapshot(
        InternalBase(db_url=f"duckdb:///{tmp_path / 'base.duckdb'}"), tmp_path, [], name="duck"
    )
    assert [r[5] for r in read(pg_out)] == [r[5] for r in read(duck_out)] == ["1.0050", "-2.0000"]


def test_empty_coverage_keeps_only_matched_rows(pg_url, tmp_path):
    load_postgres(pg_url, [r for r, _ in ROWS])
    out = snapshot(InternalBase(db_url=pg_url), tmp_path, ["MATCH-OLD"], inicio=None, fim=None)
    assert read(out) == [("F1", "MATCH-OLD", "Ana", "A1", date(2023, 12, 31), "7.77")]


@pytest.mark.parametrize("scheme", ["postgresql://", "postgres://", "postgresql+psycopg2://"])
def test_every_accepted_url_scheme_and_a_schema_qualified_table(pg_url, tmp_path, scheme):
    conn = psycopg2.connect(pg_url)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA financeiro")
    conn.close()
    load_postgres(pg_url, [("F1", "O1", "Ana", "A1", INICIO, "1.00")], table="financeiro.transacoes")
    url = scheme + pg_url.removeprefix("postgresql://")
    out = snapshot(InternalBase(db_url=url, table="financeiro.transacoes"), tmp_path, [])
    assert read(out) == [("F1", "O1", "Ana", "A1", INICIO, "1.00")]


@pytest.mark.parametrize("table", ["transacoes; DROP TABLE x", 'a"b', "a.b.c", "1tabela", ""])
def test_a_bad_table_name_is_refused_before_any_query(pg_url, tmp_path, table):
    with pytest.raises(InternalBaseError, match="RECON_INTERNAL_TABLE inválido"):
        snapshot(InternalBase(db_url=pg_url, table=table), tmp_path, [])


def test_a_missing_table_is_a_clear_error(pg_url, tmp_path):
    with pytest.raises(InternalBaseError, match='tabela "nao_existe" não existe na base interna') as missing:
        snapshot(InternalBase(db_url=pg_url, table="nao_existe"), tmp_path, [])
    assert type(missing.value) is InternalBaseError  # not InternalBaseUnavailable: never retried
    assert not (tmp_path / "out.parquet").exists()
    assert not (tmp_path / "out.parquet.copy.csv").exists()


def test_statement_timeout_is_set_on_the_connection(pg_url, tmp_path):
    load_postgres(pg_url, [("F1", "O1", "Ana", "A1", INICIO, "1.00")])
    conn = psycopg2.connect(pg_url)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE VIEW lenta AS SELECT t.* FROM transacoes_internas t, pg_sleep(3)")
    conn.close()
    base = InternalBase(db_url=pg_url, table="lenta", statement_timeout_s=1)
    with pytest.raises(InternalBaseUnavailable, match="passou do statement_timeout de 1s"):
        snapshot(base, tmp_path, [])


def test_tls_settings_come_from_the_url(pg_url, pg_tls_server, tmp_path):
    """The TCP endpoint only speaks TLS: only the URL's sslmode/sslrootcert decide whether we get in."""
    load_postgres(pg_url, [("F1", "O1", "Ana", "A1", INICIO, "1.00")])
    database = pg_url.split("/")[3].split("?")[0]
    tcp = f"postgresql://postgres:s3cr%40t@{pg_tls_server.host}:{pg_tls_server.port}/{database}"
    before = pg_tls_server.tls_sessions
    out = snapshot(InternalBase(db_url=f"{tcp}?sslmode=require"), tmp_path, [])
    assert read(out) == [("F1", "O1", "Ana", "A1", INICIO, "1.00")]
    verified = f"{tcp}?sslmode=verify-full&sslrootcert={pg_tls_server.cert}"
    out = snapshot(InternalBase(db_url=verified), tmp_path, [], name="verified")
    assert read(out) == [("F1", "O1", "Ana", "A1", INICIO, "1.00")]
    assert pg_tls_server.tls_sessions == before + 2

    with pytest.raises(InternalBaseError, match="no encryption") as refused:
        snapshot(InternalBase(db_url=f"{tcp}?sslmode=disable"), tmp_path, [])
    wrong_ca = tmp_path / "outra_ca.crt"
    self_signed_certificate(wrong_ca, tmp_path / "outra_ca.key")  # same subject, another key: must not verify
    with pytest.raises(InternalBaseError, match="certificate verify failed") as unverified:
        snapshot(InternalBase(db_url=f"{tcp}?sslmode=verify-full&sslrootcert={wrong_ca}"), tmp_path, [])
    with pytest.raises(InternalBaseError, match='invalid sslmode value: "sempre"') as bad:
        snapshot(InternalBase(db_url=f"{tcp}?sslmode=sempre"), tmp_path, [])
    for error in (refused, unverified, bad):  # configuration errors: retrying cannot fix them
        assert type(error.value) is InternalBaseError
        assert "s3cr" not in str(error.value)
    assert pg_tls_server.tls_sessions == before + 2


def test_passwords_never_reach_messages_or_metadata():
    url = "postgresql+psycopg2://recon:p%40ss%3Aw0rd@db.interno:5433/financas?sslmode=verify-full"
    assert (
        InternalBase(db_url=url).describe()
        == "postgresql+psycopg2://db.interno:5433/financas#transacoes_internas"
    )
    assert libpq_url(url) == "postgresql://recon:p%40ss%3Aw0rd@db.interno:5433/financas?sslmode=verify-full"
    assert redact("falhou p@ss:w0rd e p%40ss%3Aw0rd", url) == "falhou *** e ***"
    assert redact("x password=abc&y", "postgresql://h/db?password=abc") == "x password=***&y"
