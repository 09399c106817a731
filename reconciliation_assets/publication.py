"""One publication per date: all of D's tables become visible together, or none of them do.

A table partition is one object (``<table>/data_referencia=D/part-0.parquet``), replaced in one
atomic step. A date has several tables, and no file system or object store swaps several paths at
once, so the publication is a small commit protocol (write-ahead journal, roll forward):

1. every table is staged under ``<output>/_staging/<job_id>/`` and verified (sha256, size);
2. the journal ``_manifestos/data_referencia=D/pendente.json`` is written: the tables, their
   staged copies and checksums. From here on the new set is *committed*;
3. each table is promoted (``os.replace`` / CopyObject) and its manifest written, summary last;
4. the record ``publicacao.json`` (what is published for D and from which inputs) replaces the
   journal, and the staging area is removed.

A crash before 2 leaves the previous set untouched (the staging area is garbage). A crash after 2
is completed by ``recover`` — run at the start of every run of D and before every publication —
which promotes whatever is left. So a killed publication ends with the previous complete set or,
once recovered, the new complete set; never a mix that stays. Between the first and the last swap
(milliseconds; or, after a crash there, until the next run of D) a glob over the table folders can
see D's new divergences beside its previous summary: ``pendente.json`` in D's manifest folder
marks that window, and ``publicacao.json`` names the job whose complete set is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from resources.storage import SCHEMA_VERSION, ReconStorage

JOURNAL = "pendente"
RECORD = "publicacao"
# Promotion order: the summary is the date's "done" marker, so it goes last. The daily report is
# not part of the unit: it is rendered from the committed publication afterwards (assets/report.py).
TABLE_ORDER = ("quarentena", "divergencias", "pendencias", "resumo_conciliacao")


@dataclass(frozen=True)
class TableFile:
    """One table of the date's publication: the local file and its row count."""

    table: str
    local_file: Path
    rows: int
    details: dict[str, Any] | None = None  # table-specific facts its manifest records


def _ordered(tables: list[TableFile]) -> list[TableFile]:
    rank = {name: i for i, name in enumerate(TABLE_ORDER)}
    return sorted(tables, key=lambda t: (rank.get(t.table, len(rank)), t.table))


def published_record(storage: ReconStorage, data_referencia: str) -> dict[str, Any] | None:
    """What is published for D (the last committed publication), or None."""
    return storage.read_json(storage.manifest_uri(data_referencia, RECORD))


def recover(storage: ReconStorage, data_referencia: str) -> dict[str, Any] | None:
    """Finish D's interrupted publication, if a journal says one was committed; returns its record."""
    journal = storage.read_json(storage.manifest_uri(data_referencia, JOURNAL))
    if journal is None:
        return None
    return _complete(storage, journal)


def _complete(storage: ReconStorage, journal: dict[str, Any]) -> dict[str, Any]:
    day = journal["data_referencia"]
    for entry in journal["tabelas"]:
        storage.promote(entry["staging"], entry["destino"], entry["sha256"])
        storage.write_json(storage.manifest_uri(day, entry["tabela"]), _table_manifest(journal, entry))
    record = {**journal, "estado": "publicada", "concluida_em": datetime.now(tz=UTC).isoformat()}
    storage.write_json(storage.manifest_uri(day, RECORD), record)
    storage.delete(storage.manifest_uri(day, JOURNAL))
    storage.discard_staging(journal["job_id"])
    return record


def _table_manifest(journal: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "tabela": entry["tabela"],
        "data_referencia": journal["data_referencia"],
        "linhas": entry["linhas"],
        "sha256": entry["sha256"],
        "bytes": entry["bytes"],
        "arquivo": entry["destino"],
        "job_id": journal["job_id"],
        "schema_version": SCHEMA_VERSION,
        "publicado_em": journal["iniciada_em"],
        "liberacao_operador": journal.get("liberacao_operador"),
        **(entry.get("detalhes") or {}),
    }


def publish_day(
    storage: ReconStorage,
    data_referencia: str,
    job_id: str,
    tables: list[TableFile],
    *,
    inputs: dict[str, Any] | None = None,
    operator_release: dict[str, Any] | None = None,
    before_commit: Any = None,
) -> dict[str, Any]:
    """Publish D's tables as one unit (module docstring); returns the publication record.

    ``before_commit`` is called once everything is staged and verified, right before the journal
    makes the publication irrevocable: the last moment a deadline can still stop it.
    """
    recover(storage, data_referencia)
    entries = []
    for table in _ordered(tables):
        staged = storage.stage(table.local_file, job_id, table.table)
        entries.append(
            {
                "tabela": table.table,
                "linhas": table.rows,
                "destino": storage.table_uri(table.table, data_referencia),
                "detalhes": table.details,
                **staged,
            }
        )
    if before_commit is not None:
        try:
            before_commit()
        except BaseException:
            storage.discard_staging(job_id)
            raise
    journal = {
        "data_referencia": data_referencia,
        "job_id": job_id,
        "estado": "pendente",
        "iniciada_em": datetime.now(tz=UTC).isoformat(),
        "tabelas": entries,
        "entradas": inputs or {},
        "liberacao_operador": operator_release,
    }
    storage.write_json(storage.manifest_uri(data_referencia, JOURNAL), journal)
    return _complete(storage, journal)
