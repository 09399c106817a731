"""The company's internal base: Postgres in production, an embedded DuckDB file by default.

Both give the same thing: a Parquet snapshot of the rows in scope for one date, with ``valor`` as
exact text, streamed without passing rows through Python. The Postgres path (COPY → DuckDB, same
``base_bruta`` model) is in ``resources/postgres_snapshot.py``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import field_validator

from reconciliation_assets.engine.sql_models import (
    EngineSettings,
    ModelRunner,
    copy_model_over_model,
    sql_literal,
)
from resources.env import EnvValidatedResource
from resources.internal_base_errors import InternalBaseError, InternalBaseUnavailable

__all__ = [
    "DuckDBSource",
    "InternalBase",
    "InternalBaseError",
    "InternalBaseUnavailable",
    "InternalSource",
    "PostgresSource",
    "duckdb_path",
    "quoted_identifier",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")


def quoted_identifier(name: str) -> str:
    """``schema.table`` validated and double-quoted; anything else is refused, never interpolated."""
    if not _IDENTIFIER.match(name):
        raise InternalBaseError(
            f"RECON_INTERNAL_TABLE inválido: {name!r}. Use um identificador SQL simples, ex.: transacoes_internas "
            "ou schema.transacoes_internas."
        )
    return ".".join(f'"{part}"' for part in name.split("."))


def duckdb_path(db_url: str) -> Path:
    """SQLAlchemy's convention: ``duckdb:///rel/base.duckdb`` is relative, ``duckdb:////abs/base.duckdb`` absolute."""
    rest = db_url.removeprefix("duckdb://")
    return Path(rest[1:]) if rest.startswith("/") else Path(rest)


POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg2://")


class InternalSource(ABC):
    """One kind of internal base: how to name it safely and how to snapshot a date's scope from it."""

    @abstractmethod
    def describe(self) -> str:
        """The location without credentials, safe for logs and metadata."""

    @abstractmethod
    def snapshot(
        self,
        cobertura_inicio: date | None,
        cobertura_fim: date | None,
        ordens_parquet: Path,
        out_parquet: Path,
        engine: EngineSettings,
        on_connect: Callable[[Any], None] | None = None,
        normalised: bool = False,
    ) -> int:
        """Write the in-scope internal rows (model ``base_bruta``) to ``out_parquet``; return the row count.

        ``normalised``: write model ``base_interna`` over those rows instead (the same rows, one to one,
        normalised like the CSV side), in the same statement: no raw snapshot file written and read back.
        """


@dataclass(frozen=True)
class DuckDBSource(InternalSource):
    """The embedded default: a DuckDB file, attached read-only."""

    path: Path
    table: str

    def describe(self) -> str:
        return f"duckdb:{self.path}#{self.table}"

    def snapshot(
        self,
        cobertura_inicio: date | None,
        cobertura_fim: date | None,
        ordens_parquet: Path,
        out_parquet: Path,
        engine: EngineSettings,
        on_connect: Callable[[Any], None] | None = None,
        normalised: bool = False,
    ) -> int:
        table = quoted_identifier(self.table)
        if not self.path.exists():
            raise InternalBaseError(
                f"base interna não encontrada em {self.path}. Gere uma com `recon generate` ou defina "
                "RECON_INTERNAL_DB_URL."
            )
        with ModelRunner(engine) as runner:
            runner.con.execute(f"ATTACH {sql_literal(str(self.path))} AS base_origem (READ_ONLY)")
            exists = runner.query(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'base_origem' "
                "AND (schema_name || '.' || table_name = $t OR table_name = $t)",
                {"t": self.table},
            )[0][0]
            if not exists:
                raise InternalBaseError(f"tabela {self.table!r} não existe na base interna {self.path}.")
            runner.con.execute(f"CREATE TEMP VIEW transacoes_internas AS SELECT * FROM base_origem.{table}")
            runner.register_parquet("ordens_do_arquivo", ordens_parquet)
            params = {"cobertura_inicio": cobertura_inicio, "cobertura_fim": cobertura_fim}
            if normalised:
                return copy_model_over_model(runner, "base_interna", "base_bruta", out_parquet, params)
            return runner.copy_to_parquet("base_bruta", out_parquet, params)


@dataclass(frozen=True)
class PostgresSource(InternalSource):
    """Production: the company's Postgres, extracted with COPY (resources/postgres_snapshot.py)."""

    url: str
    table: str
    statement_timeout_s: int
    connect_timeout_s: int

    def describe(self) -> str:
        parsed = urlparse(self.url)
        host = parsed.hostname or "socket"
        port = f":{parsed.port}" if parsed.port else ""
        return f"{parsed.scheme}://{host}{port}{parsed.path}#{self.table}"

    def snapshot(
        self,
        cobertura_inicio: date | None,
        cobertura_fim: date | None,
        ordens_parquet: Path,
        out_parquet: Path,
        engine: EngineSettings,
        on_connect: Callable[[Any], None] | None = None,
        normalised: bool = False,
    ) -> int:
        from resources.postgres_snapshot import snapshot_postgres  # psycopg2 only when Postgres is used

        return snapshot_postgres(
            self.url,
            quoted_identifier(self.table),
            cobertura_inicio,
            cobertura_fim,
            ordens_parquet,
            out_parquet,
            engine,
            self.statement_timeout_s,
            connect_timeout_s=self.connect_timeout_s,
            on_connect=on_connect,
            normalised=normalised,
        )


class InternalBase(EnvValidatedResource):
    """Where the internal transactions live: ``duckdb:///path`` or ``postgresql://…``."""

    db_url: str = "duckdb:///recon_data/base_interna.duckdb"
    table: str = "transacoes_internas"
    statement_timeout_s: int = 600  # Postgres only: the extraction's statement_timeout
    # Postgres only: libpq's connect_timeout (a connect_timeout in the URL wins).
    connect_timeout_s: int = 10

    @field_validator("statement_timeout_s", "connect_timeout_s")
    @classmethod
    def _timeout(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"tempo limite inválido: {value} (use um inteiro >= 1, em segundos)")
        return value

    def source(self) -> InternalSource:
        """The one place the URL's scheme is read: everything else talks to the source it picks."""
        if self.db_url.startswith("duckdb://"):
            return DuckDBSource(duckdb_path(self.db_url), self.table)
        if self.db_url.startswith(POSTGRES_SCHEMES):
            return PostgresSource(self.db_url, self.table, self.statement_timeout_s, self.connect_timeout_s)
        scheme = urlparse(self.db_url).scheme or self.db_url.split(":", 1)[0]
        raise InternalBaseError(
            f"RECON_INTERNAL_DB_URL não suportada (esquema {scheme!r}). Use duckdb:///caminho.duckdb ou "
            "postgresql://…"
        )

    def describe(self) -> str:
        """The location without credentials, safe for logs and metadata."""
        try:
            return self.source().describe()
        except InternalBaseError:
            parsed = urlparse(self.db_url)
            return f"{parsed.scheme}://{parsed.hostname or ''}{parsed.path}#{self.table}"

    def snapshot(
        self,
        cobertura_inicio: date | None,
        cobertura_fim: date | None,
        ordens_parquet: Path,
        out_parquet: Path,
        engine: EngineSettings,
        on_connect: Callable[[Any], None] | None = None,
        normalised: bool = False,
    ) -> int:
        """Write the in-scope internal rows to ``out_parquet`` (``normalised``: model ``base_interna``
        over them, in the same statement); return the row count.

        ``on_connect(conn)`` (Postgres only) receives the open psycopg2 connection before the
        extraction starts, so another thread can stop it at a deadline with ``conn.cancel()``
        (see ``snapshot_postgres``).
        """
        return self.source().snapshot(
            cobertura_inicio, cobertura_fim, ordens_parquet, out_parquet, engine, on_connect, normalised
        )
