"""The company's internal base: Postgres in production, an embedded DuckDB file by default.

Both give the same thing: a Parquet snapshot of the rows in scope for one date, with ``valor`` as
exact text, streamed without passing rows through Python. The Postgres path (COPY → DuckDB, same
``base_bruta`` model) is in ``resources/postgres_snapshot.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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

__all__ = ["InternalBase", "InternalBaseError", "InternalBaseUnavailable", "duckdb_path", "quoted_identifier"]

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

    def describe(self) -> str:
        """The location without credentials, safe for logs and metadata."""
        parsed = urlparse(self.db_url)
        if parsed.scheme.startswith("duckdb"):
            return f"duckdb:{duckdb_path(self.db_url)}#{self.table}"
        host = parsed.hostname or "socket"
        return f"{parsed.scheme}://{host}{':' + str(parsed.port) if parsed.port else ''}{parsed.path}#{self.table}"

    def snapshot(
        self,
        cobertura_inicio: date,
        cobertura_fim: date,
        ordens_parquet: Path,
        out_parquet: Path,
        engine: EngineSettings,
        on_connect: Callable[[Any], None] | None = None,
        normalised: bool = False,
    ) -> int:
        """Write the in-scope internal rows (model ``base_bruta``) to ``out_parquet``; return the row count.

        ``normalised``: write model ``base_interna`` over those rows instead (the same rows, one to one,
        normalised like the CSV side), in the same statement: no raw snapshot file written and read back.

        ``on_connect(conn)`` (Postgres only) receives the open psycopg2 connection before the
        extraction starts, so another thread can stop it at a deadline with ``conn.cancel()``
        (see ``snapshot_postgres``).
        """
        table = quoted_identifier(self.table)
        if self.db_url.startswith("duckdb://"):
            return self._snapshot_duckdb(
                table, cobertura_inicio, cobertura_fim, ordens_parquet, out_parquet, engine, normalised
            )
        if self.db_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg2://")):
            from resources.postgres_snapshot import snapshot_postgres

            return snapshot_postgres(
                self.db_url,
                table,
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
        raise InternalBaseError(
            f"RECON_INTERNAL_DB_URL não suportada: {self.describe()}. Use duckdb:///caminho.duckdb ou postgresql://…"
        )

    def _snapshot_duckdb(
        self,
        table: str,
        inicio: date,
        fim: date,
        ordens_parquet: Path,
        out_parquet: Path,
        engine: EngineSettings,
        normalised: bool = False,
    ) -> int:
        path = duckdb_path(self.db_url)
        if not path.exists():
            raise InternalBaseError(
                f"base interna não encontrada em {path}. Gere uma com `recon generate` ou defina RECON_INTERNAL_DB_URL."
            )
        with ModelRunner(engine) as runner:
            runner.con.execute(f"ATTACH {sql_literal(str(path))} AS base_origem (READ_ONLY)")
            exists = runner.query(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'base_origem' "
                "AND (schema_name || '.' || table_name = $t OR table_name = $t)",
                {"t": self.table},
            )[0][0]
            if not exists:
                raise InternalBaseError(f"tabela {self.table!r} não existe na base interna {path}.")
            runner.con.execute(f"CREATE TEMP VIEW transacoes_internas AS SELECT * FROM base_origem.{table}")
            runner.register_parquet("ordens_do_arquivo", ordens_parquet)
            params = {"cobertura_inicio": inicio, "cobertura_fim": fim}
            if normalised:
                return copy_model_over_model(runner, "base_interna", "base_bruta", out_parquet, params)
            return runner.copy_to_parquet("base_bruta", out_parquet, params)
