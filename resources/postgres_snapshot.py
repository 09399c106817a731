"""The internal base on Postgres: the rows in scope for one date, streamed with ``COPY`` into Parquet.

Why this shape (measured in ``docs/postgres_snapshot.md``, re-run with ``bench/snapshot_postgres.py``):

1. The scope filter runs on the server: rows dated inside ``[inicio, fim]`` plus any row whose
   normalised ``ordem_id`` is among the file's validated ones. The ids travel as ONE bound text
   parameter, split on the server with ``string_to_array``; the planner folds it into a constant
   array, so ``= ANY(...)`` is a hash lookup (Postgres >= 14) and, with an expression index on the
   normalised id plus an index on ``data``, a BitmapOr instead of a full scan. No temporary table
   is needed, so a read-only replica works.
2. ``COPY (SELECT …) TO STDOUT (FORMAT csv)`` streams the rows from libpq straight into a local
   file: no row ever becomes a Python object. CSV keeps NULL (unquoted empty) apart from the empty
   string (``""``), and ``valor::text`` keeps the exact digits.
3. DuckDB reads that file and applies the very same model as the embedded path
   (``dbt_like_sql/base_bruta.sql``), so both paths give the same columns, types and scope rules;
   the server-side filter only narrows what travels.

Connection settings, TLS (``sslmode``, ``sslrootcert`` …) included, come from the URL
(``RECON_INTERNAL_DB_URL``); ``postgresql://``, ``postgres://`` and ``postgresql+psycopg2://`` are
accepted. The session is read-only, in UTC, with ``statement_timeout`` set. Passwords never reach
a log line or an error message.

Hangs and faults: the connection has libpq's ``connect_timeout`` (``RECON_INTERNAL_DB_CONNECT_TIMEOUT_S``,
10 s; a ``connect_timeout`` in the URL wins) and TCP keepalives (a dead server or a cut network is
noticed in about a minute instead of waiting for the run's max_runtime). Errors are split in two
(``resources/internal_base.py``): ``InternalBaseUnavailable`` for transient faults (connection
refused, connect timeout, server closed the connection — also mid-COPY —, server starting or
shutting down, too many clients, statement timeout, a cancelled query), retried by the asset's
policy; plain ``InternalBaseError`` for what retrying cannot fix (bad URL or option value, host
name that does not resolve, refused credentials, unknown role or database, no pg_hba entry, TLS
verification, a missing table or privilege).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlparse

import psycopg2
import psycopg2.extensions

from reconciliation_assets.engine.cancellation import on_deadline
from reconciliation_assets.engine.sql_models import (
    EngineSettings,
    ModelRunner,
    copy_model_over_model,
    sql_literal,
)
from reconciliation_assets.observability import redact as redact_secrets
from resources.internal_base_errors import InternalBaseError, InternalBaseUnavailable

__all__ = ["InternalBaseError", "InternalBaseUnavailable", "snapshot_postgres"]

SCHEMES = ("postgresql+psycopg2://", "postgresql://", "postgres://")
_QUOTED_TABLE = re.compile(r'^"[A-Za-z_][A-Za-z0-9_]{0,62}"(\."[A-Za-z_][A-Za-z0-9_]{0,62}")?$')
APPLICATION_NAME = "recon-base-interna-snapshot"
CSV_COLUMNS = (
    "{'fornecedor_id': 'VARCHAR', 'ordem_id': 'VARCHAR', 'nome': 'VARCHAR', "
    "'ativo_id': 'VARCHAR', 'data': 'DATE', 'valor': 'VARCHAR'}"
)

# The same normalisation as macros/normalizacao.sql (trim space, tab, no-break space; then NFC).
# An expression index on exactly this lets the planner use it:
#   CREATE INDEX ON transacoes_internas (normalize(btrim(ordem_id::text, ' ' || chr(9) || chr(160)), NFC));
NORMALISED_ORDEM_ID = "normalize(btrim(ordem_id::text, ' ' || chr(9) || chr(160)), NFC)"

SCOPE_QUERY = """
select
    fornecedor_id::text as fornecedor_id,
    ordem_id::text as ordem_id,
    nome::text as nome,
    ativo_id::text as ativo_id,
    data::date as data,
    valor::text as valor
from {table}
where data::date between %(cobertura_inicio)s and %(cobertura_fim)s
   or {normalised} = any (string_to_array(%(ordens)s, chr(10)))
"""


# Defaults added to the connection unless the URL sets them (libpq option names).
KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}

# libpq connection failures carry no SQLSTATE: these messages mean retrying will not help.
PERMANENT_CONNECT_ERRORS = (
    "password authentication failed",
    "authentication failed",
    "no password supplied",
    "does not exist",  # role / database
    "pg_hba.conf",  # no entry for this host/user/database, or TLS required
    "not permitted to log in",
    "permission denied",
    "invalid sslmode value",
    "invalid integer value",
    "invalid port number",
    "invalid value for parameter",
    "invalid connection option",
    "could not translate host name",  # a typo in the URL's host
    "certificate verify failed",
    "server does not support ssl",
    "unsupported frontend protocol",
)
# SQLSTATE classes worth a retry: connection exception, transaction rollback, insufficient
# resources, object not in prerequisite state (lock not available), operator intervention
# (query canceled, admin shutdown, cannot connect now), system error.
TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "55", "57", "58")


def is_transient(exc: psycopg2.Error, connecting: bool = False) -> bool:
    """Whether ``exc`` is a network/availability fault (retry) rather than a configuration error."""
    code = getattr(exc, "pgcode", None)
    if code:
        return code[:2] in TRANSIENT_SQLSTATE_CLASSES
    if connecting:
        text = str(exc).lower()
        return not any(marker in text for marker in PERMANENT_CONNECT_ERRORS)
    # No SQLSTATE after connecting: libpq lost the connection (server closed it, network cut).
    return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError))


def libpq_url(db_url: str) -> str:
    """The URL libpq understands: SQLAlchemy's ``postgresql+psycopg2://`` becomes ``postgresql://``."""
    for scheme in SCHEMES:
        if db_url.startswith(scheme):
            return "postgresql://" + db_url[len(scheme) :]
    raise ValueError(
        "RECON_INTERNAL_DB_URL deve começar com postgresql://, postgres:// ou postgresql+psycopg2://"
    )


def redact(text: str, db_url: str) -> str:
    """``text`` with the URL's password (raw and percent-decoded) and any ``password=`` value masked:
    the one redaction of the project (``observability.redact``) told this URL's secrets."""
    secrets: set[str] = set()
    try:
        parsed = urlparse(db_url)
        if parsed.password:
            secrets |= {parsed.password, unquote(parsed.password)}
    except ValueError:
        pass
    for match in re.finditer(r"password=([^&\s]+)", db_url):
        secrets |= {match.group(1), unquote(match.group(1))}
    return redact_secrets(text, secrets)


def _connect(
    db_url: str, statement_timeout_s: int, connect_timeout_s: int = 10
) -> psycopg2.extensions.connection:
    dsn = libpq_url(db_url)
    try:
        given = psycopg2.extensions.parse_dsn(dsn)  # syntax and option names: a config error
    except psycopg2.ProgrammingError as exc:
        raise InternalBaseError(
            f"RECON_INTERNAL_DB_URL inválida: {redact(str(exc).strip(), db_url)}"
        ) from None
    extra = {k: v for k, v in KEEPALIVES.items() if k not in given}
    if "connect_timeout" not in given:
        extra["connect_timeout"] = str(int(connect_timeout_s))
    try:
        conn = psycopg2.connect(dsn, **extra)
    except psycopg2.Error as exc:
        message = redact(str(exc).strip(), db_url)
        if is_transient(exc, connecting=True):
            if "timeout expired" in message:
                timeout = given.get("connect_timeout", extra.get("connect_timeout"))
                message = f"sem resposta em {timeout}s (connect_timeout): {message}"
            raise InternalBaseUnavailable(
                f"base interna indisponível ({_where(db_url)}): {message}"
            ) from None
        raise InternalBaseError(
            f"a base interna recusou a conexão ({_where(db_url)}); verifique RECON_INTERNAL_DB_URL: {message}"
        ) from None
    try:
        conn.set_session(readonly=True, autocommit=False)
        with conn.cursor() as cur:
            for name, value in (
                ("statement_timeout", f"{int(statement_timeout_s) * 1000}"),
                ("TimeZone", "UTC"),  # timestamptz -> date exactly as DuckDB's runner (UTC) does it
                ("DateStyle", "ISO, YMD"),
                ("application_name", APPLICATION_NAME),
            ):
                cur.execute("select set_config(%s, %s, false)", (name, value))
            cur.execute("show server_encoding")
            encoding = cur.fetchone()[0]
    except psycopg2.Error as exc:
        conn.close()
        message = redact(str(exc).strip(), db_url)
        if is_transient(exc):
            raise InternalBaseUnavailable(
                f"base interna indisponível ({_where(db_url)}): {message}"
            ) from None
        raise InternalBaseError(f"a base interna recusou a configuração da sessão: {message}") from None
    if encoding.upper() not in ("UTF8", "UTF-8"):
        conn.close()
        raise InternalBaseError(
            f"a base interna usa a codificação {encoding}; a normalização Unicode (NFC) exige UTF8."
        )
    return conn


def _where(db_url: str) -> str:
    """Host and port, without credentials, for messages."""
    try:
        params = psycopg2.extensions.parse_dsn(libpq_url(db_url))
    except (psycopg2.Error, ValueError):
        return "?"
    host = params.get("host") or params.get("hostaddr") or "socket"
    return f"{host}:{params['port']}" if params.get("port") else host


def _file_ordem_ids(runner: ModelRunner, ordens_parquet: Path) -> str:
    """The file's distinct validated ``ordem_id`` joined by newlines (one bound parameter).

    A record is one physical line, so an id never holds a newline; Postgres text cannot hold NUL,
    so such an id can match nothing there and is left out.
    """
    runner.register_parquet("ordens_do_arquivo", ordens_parquet)
    joined = runner.query(
        "select coalesce(string_agg(distinct ordem_id, chr(10)), '') from ordens_do_arquivo "
        "where ordem_id <> '' and not contains(ordem_id, chr(10)) and not contains(ordem_id, chr(0))"
    )[0][0]
    return str(joined)


def snapshot_postgres(
    db_url: str,
    table_quoted: str,
    cobertura_inicio: date | None,
    cobertura_fim: date | None,
    ordens_parquet: Path,
    out_parquet: Path,
    engine: EngineSettings,
    statement_timeout_s: int,
    connect_timeout_s: int = 10,
    on_connect: Callable[[psycopg2.extensions.connection], None] | None = None,
    normalised: bool = False,
) -> int:
    """Write the in-scope rows of ``table_quoted`` to ``out_parquet`` (model ``base_bruta``); return the count.
    ``normalised``: model ``base_interna`` over them instead, in the same statement (InternalBase.snapshot).

    Cancelling from another thread: ``on_connect(conn)`` is called with the open connection before
    any query. Calling ``conn.cancel()`` from another thread (libpq's PQcancel is thread-safe) stops
    the running query or COPY at once; this function then raises ``InternalBaseUnavailable``
    ("cancelada") and closes the connection. The connection attempt itself is bounded by
    ``connect_timeout_s`` (or the URL's ``connect_timeout``), not by ``cancel()``.
    """
    if not _QUOTED_TABLE.match(table_quoted):
        raise InternalBaseError(f"nome de tabela não validado: {table_quoted!r} (use quoted_identifier)")
    out_parquet.parent.mkdir(parents=True, exist_ok=True)
    csv_path = out_parquet.with_name(out_parquet.name + ".copy.csv")
    with ModelRunner(engine) as runner:
        ordens = _file_ordem_ids(runner, ordens_parquet)
        try:
            conn = _connect(db_url, statement_timeout_s, connect_timeout_s)
            # At the run's deadline the watchdog cancels the running COPY (psycopg2's cancel is thread-safe).
            unregister_cancel = on_deadline(conn.cancel)
            try:
                if on_connect is not None:
                    on_connect(conn)
                with conn.cursor() as cur:
                    cur.execute("select to_regclass(%s) is not null", (table_quoted,))
                    if not cur.fetchone()[0]:
                        raise InternalBaseError(f"tabela {table_quoted} não existe na base interna.")
                    copy_sql = cur.mogrify(
                        "copy ("
                        + SCOPE_QUERY.format(table=table_quoted, normalised=NORMALISED_ORDEM_ID)
                        + ") to stdout with (format csv, encoding 'UTF8')",
                        {
                            "cobertura_inicio": cobertura_inicio,
                            "cobertura_fim": cobertura_fim,
                            "ordens": ordens,
                        },
                    ).decode("utf-8")
                    with csv_path.open("wb", buffering=8 * 1024 * 1024) as sink:
                        cur.copy_expert(copy_sql, sink)
                conn.rollback()  # read-only transaction: nothing to keep
            except psycopg2.extensions.QueryCanceledError as exc:
                if "statement timeout" in str(exc):
                    raise InternalBaseUnavailable(
                        f"a extração de {table_quoted} passou do statement_timeout de {statement_timeout_s}s"
                    ) from None
                raise InternalBaseUnavailable(
                    f"a extração de {table_quoted} foi cancelada: {redact(str(exc).strip(), db_url)}"
                ) from None
            except psycopg2.Error as exc:
                message = redact(str(exc).strip(), db_url)
                if is_transient(exc):
                    raise InternalBaseUnavailable(
                        f"base interna indisponível durante a leitura de {table_quoted}: {message}"
                    ) from None
                raise InternalBaseError(
                    f"a base interna recusou a consulta em {table_quoted}: {message}"
                ) from None
            finally:
                unregister_cancel()
                conn.close()
            # Postgres CSV: NULL is an unquoted empty field, the empty string is "" (kept apart here).
            runner.con.execute(
                "create or replace temp view transacoes_internas as select * from read_csv("
                f"{sql_literal(str(csv_path))}, header = false, auto_detect = false, delim = ',', "
                f"quote = '\"', escape = '\"', allow_quoted_nulls = false, columns = {CSV_COLUMNS})"
            )
            params = {"cobertura_inicio": cobertura_inicio, "cobertura_fim": cobertura_fim}
            if normalised:
                return copy_model_over_model(runner, "base_interna", "base_bruta", out_parquet, params)
            return runner.copy_to_parquet("base_bruta", out_parquet, params)
        finally:
            csv_path.unlink(missing_ok=True)
