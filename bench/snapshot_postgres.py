"""Measure the Postgres snapshot (``resources.postgres_snapshot``) against a plain ``COPY … TO STDOUT``.

For each size (default 1,000,000 and 10,000,000 internal rows) it builds a table in Postgres with
``generate_series`` (99% of the rows inside a 7-day coverage, 1% long before it), a "file" of
1,000,000 validated ``ordem_id`` (the SPEC's daily volume; it matches 1% of its rows outside the
coverage), and then measures, each in its own process so peak RSS is that method's alone:

- ``copy``: ``COPY (the same scope query, same bound parameters) TO STDOUT (FORMAT csv)`` into a
  file, the floor for any client (psycopg2, libpq);
- ``snapshot``: ``snapshot_postgres`` end to end: the same COPY, then DuckDB applies
  ``base_bruta.sql`` and writes the Parquet the pipeline reads;
- with ``--alternatives``, when installed: ``adbc`` (adbc-driver-postgresql, bound parameters,
  Arrow batches into DuckDB → Parquet) and ``connectorx`` (Arrow table → Parquet; it takes no bound
  parameters, so the query text is built by psycopg2's escaping).

Rows/s is rows extracted over wall time of the whole method; peak RSS is the client process's
``ru_maxrss`` (the Postgres server's memory is not included).

    .venv/bin/python bench/snapshot_postgres.py                        # starts its own pgserver
    .venv/bin/python bench/snapshot_postgres.py --sizes 1000000 --postgres-url postgresql://…
    .venv/bin/python bench/snapshot_postgres.py --alternatives --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INICIO, FIM = date(2024, 3, 3), date(2024, 3, 9)
FILE_IDS = 1_000_000
METHODS = ("copy", "snapshot")
ALTERNATIVES = ("adbc", "connectorx")

CREATE = """
DROP TABLE IF EXISTS {table};
CREATE TABLE {table} AS
SELECT 'F' || lpad((i % 10)::text, 2, '0') AS fornecedor_id,
       'ORD-' || lpad(i::text, 10, '0') AS ordem_id,
       (ARRAY['José da Silva', 'Conceição Souza', 'Ana "Aninha" Lima', 'Souza; Filho'])[1 + i % 4] AS nome,
       'A' || lpad((i * 7 % 20)::text, 2, '0') AS ativo_id,
       CASE WHEN i % 100 = 0 THEN DATE '2024-01-15' ELSE DATE '2024-03-09' - (i % 7)::int END AS data,
       ((((i * 7919) % 9000000) - 1000000) / 100.0)::numeric(18,2) AS valor
FROM generate_series(1::bigint, {rows}::bigint) AS i;
ANALYZE {table};
"""


def expected_rows(rows: int) -> int:
    """Rows in scope: every row inside the coverage plus the 1% outside it whose id is in the file."""
    outside = rows // 100
    matched_outside = min(rows, FILE_IDS) // 100
    return rows - outside + matched_outside


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def file_ids(path: Path) -> None:
    import duckdb

    duckdb.sql(
        f"COPY (SELECT 'ORD-' || lpad(i::varchar, 10, '0') AS ordem_id FROM range(1, {FILE_IDS + 1}) t(i)) "
        f"TO '{path}' (FORMAT parquet)"
    )


def scope_sql(table: str, placeholder: str) -> str:
    from resources.postgres_snapshot import NORMALISED_ORDEM_ID, SCOPE_QUERY

    sql = SCOPE_QUERY.format(table=table, normalised=NORMALISED_ORDEM_ID)
    if placeholder == "$":
        sql = sql.replace("%(cobertura_inicio)s", "$1::date").replace("%(cobertura_fim)s", "$2::date")
        sql = sql.replace("%(ordens)s", "$3::text")
    return sql


def ids_text(ids_parquet: Path) -> str:
    import duckdb

    query = f"SELECT string_agg(ordem_id, chr(10)) FROM read_parquet('{ids_parquet}')"
    return duckdb.connect().execute(query).fetchone()[0]


def run_one(method: str, url: str, table: str, ids_parquet: Path, work: Path) -> dict[str, object]:
    """One measurement, in this (fresh) process."""
    from reconciliation_assets.engine.sql_models import EngineSettings
    from resources.postgres_snapshot import libpq_url, snapshot_postgres

    engine = EngineSettings(memory_limit="2GB", threads=2, temp_dir=str(work / "duck_tmp"))
    out = work / f"{method}.parquet"
    started = time.perf_counter()
    if method == "snapshot":
        rows = snapshot_postgres(url, f'"{table}"', INICIO, FIM, ids_parquet, out, engine, 3600)
    elif method == "copy":
        import psycopg2

        conn = psycopg2.connect(libpq_url(url))
        with conn.cursor() as cur:
            params = {"cobertura_inicio": INICIO, "cobertura_fim": FIM, "ordens": ids_text(ids_parquet)}
            sql = cur.mogrify(f"copy ({scope_sql(table, '%')}) to stdout with (format csv)", params).decode()
            with (work / "copy.csv").open("wb", buffering=8 * 1024 * 1024) as sink:
                cur.copy_expert(sql, sink)
            rows = cur.rowcount  # libpq's "COPY n"
        conn.close()
    elif method == "adbc":
        import adbc_driver_postgresql.dbapi as adbc
        import duckdb

        with adbc.connect(libpq_url(url)) as conn, conn.cursor() as cur:
            cur.execute(scope_sql(table, "$"), (INICIO.isoformat(), FIM.isoformat(), ids_text(ids_parquet)))
            con = duckdb.connect()
            con.register("reader", cur.fetch_record_batch())
            rows = con.execute(f"COPY (SELECT * FROM reader) TO '{out}' (FORMAT parquet)").fetchone()[0]
    elif method == "connectorx":
        import connectorx as cx
        import duckdb
        import psycopg2

        conn = psycopg2.connect(libpq_url(url))
        with conn.cursor() as cur:
            params = {"cobertura_inicio": INICIO, "cobertura_fim": FIM, "ordens": ids_text(ids_parquet)}
            query = cur.mogrify(scope_sql(table, "%"), params).decode()
        conn.close()
        con = duckdb.connect()
        cx_url = (
            libpq_url(url).replace(":@/", "@localhost/").replace("@/", "@localhost/")
        )  # needs a host part
        con.register("arrow", cx.read_sql(cx_url, query, return_type="arrow"))
        rows = con.execute(f"COPY (SELECT * FROM arrow) TO '{out}' (FORMAT parquet)").fetchone()[0]
    else:
        raise ValueError(method)
    seconds = time.perf_counter() - started
    return {"method": method, "rows": int(rows), "seconds": round(seconds, 2), "peak_rss_mb": peak_rss_mb()}


def measure(method: str, url: str, table: str, ids_parquet: Path, work: Path) -> dict[str, object]:
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--one",
            method,
            "--table",
            table,
            "--ids",
            str(ids_parquet),
            "--work",
            str(work),
        ],
        env={**os.environ, "RECON_BENCH_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return {"method": method, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def start_pgserver() -> tuple[object, Path, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        folder = Path(tempfile.mkdtemp(prefix="recon-bench-pg-"))
        server = pgserver.get_server(folder / "data", cleanup_mode="delete")
    return server, folder, server.get_uri()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000000,10000000", help="internal table sizes, comma-separated")
    parser.add_argument("--postgres-url", default=None, help="an existing server (default: start pgserver)")
    parser.add_argument("--alternatives", action="store_true", help="also ADBC and connectorx, if installed")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--one", choices=METHODS + ALTERNATIVES, help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    parser.add_argument("--ids", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:
        args.work.mkdir(parents=True, exist_ok=True)
        print(json.dumps(run_one(args.one, os.environ["RECON_BENCH_URL"], args.table, args.ids, args.work)))
        return 0

    import psycopg2

    from resources.postgres_snapshot import libpq_url

    server = folder = None
    url = args.postgres_url
    if url is None:
        server, folder, url = start_pgserver()
    work = Path(tempfile.mkdtemp(prefix="recon-bench-snapshot-"))
    results: list[dict[str, object]] = []
    try:
        ids_parquet = work / "validadas.parquet"
        file_ids(ids_parquet)
        methods = METHODS + (ALTERNATIVES if args.alternatives else ())
        for size in (int(s) for s in args.sizes.split(",")):
            table = f"bench_snapshot_{size}"
            started = time.perf_counter()
            conn = psycopg2.connect(libpq_url(url))
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(CREATE.format(table=f'"{table}"', rows=size))
            conn.close()
            print(f"{size:,} rows loaded in {time.perf_counter() - started:.1f}s", file=sys.stderr)
            for method in methods:
                result = {"table_rows": size, "expected_rows": expected_rows(size)}
                result.update(measure(method, url, table, ids_parquet, work / method))
                if "seconds" in result:
                    result["rows_per_s"] = round(int(result["rows"]) / float(result["seconds"]))
                results.append(result)
                print(json.dumps(result), file=sys.stderr)
                shutil.rmtree(work / method, ignore_errors=True)
            conn = psycopg2.connect(libpq_url(url))
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'DROP TABLE "{table}"')
            conn.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if server is not None:
            server.cleanup()
            shutil.rmtree(folder, ignore_errors=True)

    print("| table rows | method | rows extracted | seconds | rows/s | peak RSS (MB) |")
    print("|---:|---|---:|---:|---:|---:|")
    for r in results:
        if "error" in r:
            print(f"| {r['table_rows']:,} | {r['method']} | error: {r['error']} | | | |")
            continue
        print(
            f"| {r['table_rows']:,} | {r['method']} | {r['rows']:,} | {r['seconds']} | "
            f"{r['rows_per_s']:,} | {r['peak_rss_mb']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    wrong = [r for r in results if "rows" in r and r["rows"] != r["expected_rows"]]
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
