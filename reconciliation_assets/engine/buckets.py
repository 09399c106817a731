"""Bounded memory at any size: run a model keyed by ``ordem_id`` bucket by bucket.

An execution strategy of the DuckDB engine, not a rule: the models in ``dbt_like_sql/`` never see a
bucket. Each side of the day (the validated rows, the internal snapshot, ...) is cut into N buckets
by a hash of ``ordem_id``; the same model then runs N times, each time on relations (views over the
day's files, filtered on the hash) that hold one bucket of every side, so its joins and its sort
never hold more than one bucket in memory. Every bucket writes its own sorted Parquet part, recorded
(rows, sha256) in a ledger beside the parts, so a resumed run (Dagster's "re-execute from failure")
skips the buckets already done; the parts are then streamed, in bucket order, into the one file the
step publishes.

Order: a row's bucket is ``floor((hash(ordem_id) >> 32) * N / 2^32)``, monotone in the hash, and
each part is sorted by ``hash(ordem_id)`` first. The concatenation is therefore the global
order by ``hash(ordem_id), <the model's key>`` whatever N is: N=1 and N=8 write the same bytes.
The columns that stamp the run (``job_id``, ``timestamp``) are written when the parts are combined,
so parts reused from an interrupted run carry the publishing run's stamp like the others.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from reconciliation_assets.engine.files import parquet_rows, sha256_file
from reconciliation_assets.engine.sql_models import PARQUET_OPTIONS, ModelRunner, load_model, sql_literal

KEY = "ordem_id"
HASH = f"hash({KEY})"
# Rows of the larger side per bucket. At the 512MB default the unsorted 10M x 10M join ran, but the
# same join sorted (one bucket, N=1) ran out of memory; 4M keeps a bucket's join and sort well inside
# the limit (measured at 10M: N=3, peak RSS of the step ~870 MiB) and a 10M-row day in three buckets.
ROWS_PER_BUCKET = 4_000_000
LEDGER_FILE = "estado.json"
LEDGER_VERSION = 1


def bucket_of(n: int) -> str:
    """SQL for the bucket (0..n-1) of a row: the top 32 bits of the key's hash scaled to n."""
    return f"cast((({HASH} >> 32) * {int(n)}) >> 32 as integer)"


def bucket_count(rows: int, forced: int = 0, rows_per_bucket: int = ROWS_PER_BUCKET) -> int:
    """N for a day whose larger side has ``rows`` rows; ``forced`` (>= 1) overrides the size rule."""
    if forced >= 1:
        return int(forced)
    return max(1, math.ceil(rows / rows_per_bucket))


def file_identity(path: Path) -> dict[str, int]:
    """Cheap identity of a work file: an earlier step that rewrites it changes its size or mtime."""
    stat = path.stat()
    return {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


# Test seam: called after each bucket's part is recorded (tests inject a failure here).
def after_bucket(name: str, bucket: int) -> None:
    return None


class Ledger:
    """``<folder>/estado.json``: what the files in ``folder`` were computed from and which are done.

    A ledger whose fingerprint differs from the current one (other inputs, other N, another model
    text or parameters) is discarded together with its files.
    """

    def __init__(self, folder: Path, fingerprint: dict[str, Any]):
        self.folder = folder
        self.path = folder / LEDGER_FILE
        self.fingerprint = json.loads(json.dumps(fingerprint, sort_keys=True, default=str))
        doc = self._read()
        if doc is None or doc.get("versao") != LEDGER_VERSION or doc.get("fingerprint") != self.fingerprint:
            shutil.rmtree(folder, ignore_errors=True)
            doc = {"versao": LEDGER_VERSION, "fingerprint": self.fingerprint, "feitos": {}}
        folder.mkdir(parents=True, exist_ok=True)
        self.doc = doc

    def _read(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def _name(self, f: Path) -> str:
        return f.relative_to(self.folder).as_posix()

    def done(self, unit: str, files: Sequence[Path]) -> bool:
        """True when ``unit`` is recorded and its files are exactly ``files``, with their rows and sha256."""
        record = self.doc["feitos"].get(unit)
        if record is None or set(record) != {self._name(f) for f in files}:
            return False
        for f in files:
            want = record[self._name(f)]
            if not f.exists() or parquet_rows(f) != want["linhas"] or sha256_file(f) != want["sha256"]:
                return False
        return True

    def sha256(self, unit: str, f: Path) -> str:
        """The sha256 recorded for ``f`` of ``unit`` (checked by ``done`` or written by ``record``)."""
        return str(self.doc["feitos"][unit][self._name(f)]["sha256"])

    def record(self, unit: str, files: Sequence[Path]) -> None:
        self.doc["feitos"][unit] = {
            self._name(f): {"linhas": parquet_rows(f), "sha256": sha256_file(f)} for f in files
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.doc, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


def bucket_progress(folder: Path) -> dict[str, dict[str, int]]:
    """Per bucketed model under ``folder`` (a day's ``baldes``): N and how many buckets are recorded done."""
    progress = {}
    for path in sorted(folder.glob(f"*/{LEDGER_FILE}")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        progress[path.parent.name] = {
            "buckets": int(doc["fingerprint"].get("n", 0)),
            "completed": len(doc["feitos"]),
        }
    return progress


@dataclass
class BucketRun:
    """What a bucketed model run did: N, and which buckets were computed now or reused."""

    name: str
    buckets: int
    rows: int = 0
    parts: list[Path] = field(default_factory=list)
    part_sha256: list[str] = field(default_factory=list)  # as recorded in the ledger: no second read
    computed: list[int] = field(default_factory=list)
    reused: list[int] = field(default_factory=list)


# From this many buckets on, each side is split once into one file per bucket (a write costs
# about twenty reads); below it, a bucket is a filtered view of the whole file (no copy written).
SPLIT_FROM = 8


class BucketedDay:
    """The day's keyed inputs, each exposed one bucket at a time under its own relation name.

    Below ``SPLIT_FROM`` buckets (or without a ``folder``) a bucket is a view of the whole file
    filtered on the key's hash, which DuckDB evaluates while scanning: nothing is written, and a
    10M-row side is read in well under a second. From ``SPLIT_FROM`` on, N scans of every side would
    cost more than writing it once, so each side is split in one pass into one Parquet file per
    bucket under ``folder`` (recorded, and reused by every model and by a resumed run while the
    source is unchanged). With N=1 the view is the file itself.
    """

    def __init__(self, runner: ModelRunner, n: int, folder: Path | None = None):
        self.runner = runner
        self.n = n
        self.folder = folder
        self.sources: dict[str, Path] = {}
        self.split_files: dict[str, list[list[Path]]] = {}

    def add(self, relation: str, source: Path, identity: Any = None) -> None:
        """Register ``source`` as ``relation``; ``identity``: what tells its content (default size, mtime)."""
        self.sources[relation] = source
        if self.folder is not None and self.n >= SPLIT_FROM:
            try:
                self.split_files[relation] = self._split(relation, source, identity)
            except duckdb.OutOfMemoryException:
                # DuckDB's partitioned write keeps N files open, each with a row group in memory; if
                # that does not fit the limit, this side's buckets are filtered views instead
                # (bounded too, one scan of the file per bucket: slower, never out of memory).
                shutil.rmtree(self.folder / f"entrada_{relation}", ignore_errors=True)

    def _split(self, relation: str, source: Path, identity: Any) -> list[list[Path]]:
        folder = self.folder / f"entrada_{relation}"  # type: ignore[operator]
        ledger = Ledger(
            folder, {"n": self.n, "origem": str(source), "identidade": identity or file_identity(source)}
        )
        parts = folder / "partes"

        def present() -> list[Path]:
            return sorted(parts.glob("balde=*/*.parquet"))

        if not ledger.done("divisao", present()):
            shutil.rmtree(parts, ignore_errors=True)
            src = f"read_parquet({sql_literal(str(source))}, hive_partitioning = false)"
            # Each thread holds up to the flush threshold of rows spread over the N open files: the
            # default (524288 rows per thread) ran 99M rows x 8 columns into 25 files out of 512MB.
            self.runner.con.execute("SET partitioned_write_flush_threshold = 65536")
            try:
                self.runner.con.execute(
                    f"COPY (SELECT *, {bucket_of(self.n)} AS balde FROM {src}) "
                    f"TO {sql_literal(str(parts))} ({PARQUET_OPTIONS}, PARTITION_BY (balde))"
                )
            finally:
                self.runner.con.execute("RESET partitioned_write_flush_threshold")
            # A bucket without rows gets an empty file with the same columns, so every bucket reads alike.
            for k in range(self.n):
                empty = parts / f"balde={k}" / "vazio.parquet"
                if not empty.parent.exists():
                    empty.parent.mkdir(parents=True)
                    self.runner.con.execute(
                        f"COPY (SELECT * FROM {src} LIMIT 0) TO {sql_literal(str(empty))} ({PARQUET_OPTIONS})"
                    )
            total, expected = sum(parquet_rows(f) for f in present()), parquet_rows(source)
            if total != expected:
                raise RuntimeError(
                    f"divisão de {relation} em baldes: {total} linhas, a origem tem {expected}"
                )
            ledger.record("divisao", present())
        return [sorted((parts / f"balde={k}").glob("*.parquet")) for k in range(self.n)]

    def register(self, relation: str, bucket: int) -> None:
        """Expose bucket ``bucket`` of ``relation`` under the relation's own name (the model's input)."""
        if relation in self.split_files:
            # The bucket files do not hold the partition column (DuckDB's PARTITION_BY leaves it out).
            files = ", ".join(sql_literal(str(p)) for p in self.split_files[relation][bucket])
            self.runner.con.execute(
                f"CREATE OR REPLACE TEMP VIEW {relation} AS SELECT * FROM read_parquet([{files}], "
                "hive_partitioning = false)"
            )
            return
        where = "" if self.n == 1 else f" WHERE {bucket_of(self.n)} = {int(bucket)}"
        self.runner.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {relation} AS SELECT * FROM read_parquet("
            f"{sql_literal(str(self.sources[relation]))}, hive_partitioning = false){where}"
        )


def query_by_bucket(day: BucketedDay, relations: Sequence[str], sql: str) -> list[list[tuple]]:
    """A small read-only query run once per bucket of ``relations``: each bucket's rows, in order."""
    results = []
    for k in range(day.n):
        for relation in relations:
            day.register(relation, k)
        results.append(day.runner.query(sql))
    return results


def run_model_by_bucket(
    runner: ModelRunner,
    day: BucketedDay,
    *,
    model: str,
    relations: Sequence[str],
    params: dict[str, Any],
    run_params: dict[str, Any],
    stamp: Mapping[str, tuple[str, Any]],
    order_by: Sequence[str],
    out: Path,
    parts_dir: Path,
    fingerprint: dict[str, Any],
    per_bucket: Callable[[int], None] | None = None,
) -> BucketRun:
    """Run ``model`` once per bucket of ``relations``, then stream the parts, in order, into ``out``.

    ``params`` are part of the fingerprint; ``run_params`` (the run's id and clock) are not: the
    columns they fill are rewritten at the combine from ``stamp`` (``{column: (sql type, value)}``).
    ``order_by``: the model's key after ``hash(ordem_id)``. ``per_bucket(k)`` registers the bucket's
    other relations (e.g. another bucketed model's part).
    """
    sql = load_model(model)
    ledger = Ledger(
        parts_dir,
        {
            **fingerprint,
            "n": day.n,
            "modelo": hashlib.sha256(sql.encode("utf-8")).hexdigest(),
            "ordem": list(order_by),
            "parametros": params,
        },
    )
    run = BucketRun(model, day.n)
    wanted = {name for name in {**params, **run_params} if f"${name}" in sql}
    bound = {k: v for k, v in {**params, **run_params}.items() if k in wanted}
    # A model of one row per bucket (additive facts) has no key to sort by.
    order = f" ORDER BY {', '.join([HASH, *order_by])}" if order_by else ""
    for k, part in enumerate(bucket_parts(parts_dir, day.n)):
        if ledger.done(f"balde={k}", [part]):
            run.reused.append(k)
            continue
        for relation in relations:
            day.register(relation, k)
        if per_bucket is not None:
            per_bucket(k)
        tmp = part.with_suffix(".tmp")
        runner.con.execute(
            f"COPY (SELECT * FROM ({sql}){order}) TO {sql_literal(str(tmp))} ({PARQUET_OPTIONS})",
            bound,
        )
        os.replace(tmp, part)
        ledger.record(f"balde={k}", [part])
        run.computed.append(k)
        after_bucket(model, k)
    run.parts = bucket_parts(parts_dir, day.n)
    run.part_sha256 = [ledger.sha256(f"balde={k}", part) for k, part in enumerate(run.parts)]
    run.rows = combine(runner, run.parts, out, stamp)
    return run


def bucket_parts(parts_dir: Path, n: int) -> list[Path]:
    return [parts_dir / f"parte-{k:05d}.parquet" for k in range(n)]


def combine(
    runner: ModelRunner, parts: Sequence[Path], out: Path, stamp: Mapping[str, tuple[str, Any]]
) -> int:
    """Stream ``parts`` in order into ``out``, stamping the run's columns; returns the rows written.

    DuckDB's Parquet writer lays pages out by the chunks it is fed, so the parts are re-cut into
    batches of exactly one vector (2048 rows) across part boundaries: the file's bytes then depend
    only on its rows, not on how many parts they came from.

    On a connection of its own (the runner's settings), closed at the end: the ordered write leaves
    a few hundred MB in DuckDB's allocator at 10M rows, which the runner's next bucketed model would
    otherwise hold on top of its own peak.
    """
    with ModelRunner(runner.settings) as own:
        return _combine(own, parts, out, stamp)


def _combine(
    runner: ModelRunner, parts: Sequence[Path], out: Path, stamp: Mapping[str, tuple[str, Any]]
) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    schema = pq.read_schema(parts[0])
    names = {column: f"carimbo_{i}" for i, column in enumerate(stamp)}
    replace = ", ".join(f'cast(${names[c]} AS {sql_type}) AS "{c}"' for c, (sql_type, _) in stamp.items())
    values = {names[c]: value for c, (_, value) in stamp.items()}
    select = f"SELECT * REPLACE ({replace})" if stamp else "SELECT *"
    reader = pa.RecordBatchReader.from_batches(schema, _vectors(parts, schema))
    runner.con.register("partes_em_ordem", reader)
    # Insertion order kept for this statement only: the parts are sorted, their concatenation is the order.
    runner.con.execute("SET preserve_insertion_order = true")
    try:
        rows = runner.con.execute(
            f"COPY ({select} FROM partes_em_ordem) TO {sql_literal(str(out))} ({PARQUET_OPTIONS})",
            values,
        ).fetchall()
    finally:
        runner.con.execute("SET preserve_insertion_order = false")
        runner.con.unregister("partes_em_ordem")
    return int(rows[0][0]) if rows else 0


VECTOR = 2048


def _vectors(parts: Sequence[Path], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The parts' rows in order, in batches of exactly ``VECTOR`` rows (the last one may be shorter)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for part in parts:
        for batch in pq.ParquetFile(part).iter_batches(batch_size=VECTOR):
            if not held and batch.num_rows == VECTOR:  # the common case: already one whole vector
                yield batch
                continue
            pending.append(batch)
            held += batch.num_rows
            while held >= VECTOR:
                table = pa.Table.from_batches(pending, schema=schema).combine_chunks()
                yield from table.slice(0, VECTOR).to_batches()
                rest = table.slice(VECTOR)
                pending = rest.combine_chunks().to_batches() if rest.num_rows else []
                held = rest.num_rows
    if held:
        yield from pa.Table.from_batches(pending, schema=schema).combine_chunks().to_batches()
