"""Generate a supplier day and a matching internal base with exact, known counts (the load scenario).

Every count in the ground truth is true *by construction*: the generator decides which rows are
TIPO_1, TIPO_2, TIPO_3_* or quarantined with an affine permutation of the row index, so it never
runs the project's own rules to find out. Rows are produced in chunks with vectorised Polars, so
memory stays flat whatever the row count.

The internal base holds many dates: generating D *adds* D to it. What belongs to D is decided by
``ordem_id`` alone (SPEC 2.2 allows no generator column in the table): every internal row the
generator writes for D, matched, TIPO_2 or planted outside the coverage, has an ``ordem_id`` that
starts with one of ``owned_prefixes(D)`` (``ORD<YYYYMMDD>-``, ``INT-<YYYYMMDD>-``,
``INT-OUT-<YYYYMMDD>-``), so ids of different dates never collide and regenerating D deletes
exactly D's rows before writing them again (same seed, same base). Rows of *other* dates dated
inside D's coverage are, by SPEC section 4, TIPO_2 for D: the side table ``GENERATIONS_TABLE``
keeps each date's own truth and coverage, and after every generation each registered date's
``ground_truth_<D>.json`` is rewritten with those foreign rows added (``tipo_2_de_outras_datas``).
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import duckdb
import numpy as np
import polars as pl

from reconciliation_assets.engine.sql_models import sql_literal

FIELDS_TIPO_3 = ("VALOR", "DATA", "FORNECEDOR", "ATIVO", "NOME")
REASONS = (
    "MALFORMED_ROW",
    "MISSING_FIELD",
    "INVALID_VALOR",
    "INVALID_DATA",
    "DATE_OUT_OF_RANGE",
    "DUPLICATE_ORDEM_ID",
)
NAMES = [
    "José da Silva",
    "Conceição Souza",
    'Ana "Aninha" Lima',
    "Souza; Filho",
    "João Araújo",
    "Maria Antônia",
    "Luís Câmara",
    "Beatriz Nóbrega",
]
# A TIPO_3_VALOR difference per severity band: 0.01 (LOW), 1.00 (MEDIUM, the edge), 1000.00 (HIGH, the edge).
VALOR_DELTAS_CENTS = (1, 100, 100_000)
PRESETS = {
    "normal": {"rows": 1_000_000, "tipo1_pct": 5.0, "tipo2_pct": 3.0, "tipo3_pct": 2.0},
    "pico": {"rows": 1_500_000, "tipo1_pct": 5.0, "tipo2_pct": 3.0, "tipo3_pct": 2.0},
    "divergente": {"rows": 1_000_000, "tipo1_pct": 10.0, "tipo2_pct": 5.0, "tipo3_pct": 5.0},
}


@dataclass
class Scenario:
    rows: int  # data lines in the CSV, quarantined ones included (blank lines are extra)
    data_referencia: date
    seed: int = 42
    tipo1_pct: float = 5.0
    tipo2_pct: float = 3.0
    tipo3_pct: float = 2.0
    quarantine_per_mille: float = 1.0  # per reason
    out_of_coverage_pct: float = 1.0  # internal rows dated before the coverage: never TIPO_2
    chunk_rows: int = 500_000
    delimiter: str = ";"
    encoding: str = "utf-8"
    file_name: str = "transacoes.csv"
    max_age_days: int = 31


GENERATIONS_TABLE = "recon_geracoes"  # the generator's own bookkeeping, beside the internal table


def owned_prefixes(day: date) -> tuple[str, ...]:
    """The ``ordem_id`` prefixes of every internal row generated for ``day`` (and of nothing else)."""
    p = f"{day:%Y%m%d}"
    return (f"ORD{p}-", f"INT-{p}-", f"INT-OUT-{p}-")


def owned_by(day: date, column: str = "ordem_id") -> str:
    """SQL predicate (DuckDB and Postgres): the row was generated for ``day``."""
    return "(" + " OR ".join(f"starts_with({column}, '{prefix}')" for prefix in owned_prefixes(day)) + ")"


@dataclass
class GroundTruth:
    data_referencia: str
    linhas_csv: int
    linhas_validas: int
    linhas_quarentena: int
    linhas_em_branco: int
    quarentena: dict[str, int]
    divergencias: dict[str, int]
    severidade_tipo_3_valor: dict[str, int]
    linhas_base: int
    linhas_base_escopo: int
    conciliadas_sem_divergencia: int
    # Internal rows generated for other dates but dated inside this date's coverage: TIPO_2 here
    # (already included in divergencias["TIPO_2"] and linhas_base_escopo).
    tipo_2_de_outras_datas: int = 0
    cobertura_inicio: str = ""
    cobertura_fim: str = ""
    csv_path: str = ""
    base_path: str = ""
    seconds: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)


def _coprime_step(n: int, seed: int) -> int:
    step = 1_000_003 + 2 * (seed % 1000)
    while math.gcd(step, n) != 1:
        step += 2
    return step


def _money_text(cents: pl.Expr, comma: pl.Expr) -> pl.Expr:
    """Integer cents -> '-1234.56' (or with a decimal comma where ``comma``)."""
    absolute = cents.abs()
    sep = pl.when(comma).then(pl.lit(",")).otherwise(pl.lit("."))
    return pl.concat_str(
        pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (absolute // 100).cast(pl.String),
        sep,
        (absolute % 100).cast(pl.String).str.zfill(2),
    )


def _quoted(text: pl.Expr, delimiter: str) -> pl.Expr:
    needs = text.str.contains(delimiter, literal=True) | text.str.contains('"', literal=True)
    return (
        pl.when(needs)
        .then(pl.concat_str(pl.lit('"'), text.str.replace_all('"', '""', literal=True), pl.lit('"')))
        .otherwise(text)
    )


class _Plan:
    """Which valid row is what, decided from its index alone."""

    def __init__(self, sc: Scenario):
        self.sc = sc
        self.q = max(1, round(sc.rows * sc.quarantine_per_mille / 1000)) if sc.rows >= 100 else 1
        self.n_bad = self.q * len(REASONS)
        if sc.rows <= self.n_bad:
            raise ValueError(f"rows={sc.rows} é pequeno demais: precisa de mais que {self.n_bad} linhas")
        self.valid = sc.rows - self.n_bad
        self.n1 = round(self.valid * sc.tipo1_pct / 100)
        self.n3 = round(self.valid * sc.tipo3_pct / 100)
        self.n2 = round(self.valid * sc.tipo2_pct / 100)
        self.n_out = round(self.valid * sc.out_of_coverage_pct / 100)
        self.step = _coprime_step(self.valid, sc.seed)
        self.offset = (sc.seed * 7_777) % self.valid
        d = sc.data_referencia
        self.base_day = np.datetime64(d - timedelta(days=1), "D")
        self.prefix = f"{d:%Y%m%d}"

    def valid_frame(self, start: int, stop: int) -> pl.DataFrame:
        sc = self.sc
        i = np.arange(start, stop, dtype=np.int64)
        perm = (self.step * i + self.offset) % self.valid
        kind = np.where(perm < self.n1, 1, np.where(perm < self.n1 + self.n3, 3, 0))
        field3 = np.where(kind == 3, (perm - self.n1) % 5, -1)
        delta_band = np.where(kind == 3, ((perm - self.n1) // 5) % 3, 0)
        cents = ((i * 7_919 + sc.seed * 31) % 9_000_000) - 1_000_000
        # Every valid row is dated D-1, as in a daily supplier file: the coverage is one day, so the
        # dates generated next to each other in one base stay plausible days (a 7-day spread made
        # every neighbour's rows TIPO_2 here: ~64 % divergence on three consecutive dates).
        days_back = np.zeros_like(i)
        return pl.DataFrame(
            {
                "i": i,
                "kind": kind,
                "field3": field3,
                "delta_band": delta_band,
                "cents": cents,
                "data": self.base_day - days_back.astype("timedelta64[D]"),
            }
        ).with_columns(
            ordem_id=pl.concat_str(
                pl.lit(owned_prefixes(self.sc.data_referencia)[0]), pl.col("i").cast(pl.String).str.zfill(10)
            ),
            fornecedor_id=pl.concat_str(pl.lit("F"), (pl.col("i") % 10).cast(pl.String).str.zfill(2)),
            ativo_id=pl.concat_str(pl.lit("A"), ((pl.col("i") * 7) % 20).cast(pl.String).str.zfill(2)),
            nome=pl.lit(pl.Series(NAMES)).gather(pl.col("i") % len(NAMES)),
        )

    def csv_lines(self, df: pl.DataFrame) -> pl.Series:
        """The CSV text of valid rows, with the format variety a real supplier file has."""
        d = self.sc.delimiter
        i = pl.col("i")
        comma = (i % 3 == 0) & pl.lit(d != ",")
        # Half-even ties: an even number of cents written with a trailing 5 rounds back to itself.
        tie = (i % 11 == 0) & (pl.col("cents") % 2 == 0)
        valor = (
            pl.when(tie)
            .then(pl.concat_str(_money_text(pl.col("cents"), comma), pl.lit("5")))
            .otherwise(_money_text(pl.col("cents"), comma))
        )
        data = (
            pl.when(i % 2 == 0)
            .then(pl.col("data").dt.strftime("%d/%m/%Y"))
            .otherwise(pl.col("data").dt.strftime("%Y-%m-%d"))
        )
        # NFD and padding must not create a divergence: the base keeps the NFC, trimmed name.
        nome = (
            pl.when(i % 13 == 0)
            .then(pl.concat_str(pl.lit("  "), pl.col("nome").str.normalize("NFD"), pl.lit(" ")))
            .otherwise(pl.col("nome"))
        )
        return df.select(
            pl.concat_str(
                pl.col("fornecedor_id"),
                pl.col("ordem_id"),
                _quoted(nome, d),
                pl.col("ativo_id"),
                data,
                valor,
                separator=d,
            )
        ).to_series()

    def base_rows(self, df: pl.DataFrame) -> pl.DataFrame:
        """Internal rows for the matched part of ``df`` (TIPO_1 rows are absent from the base)."""
        f = pl.col("field3")
        delta = pl.lit(pl.Series(VALOR_DELTAS_CENTS)).gather(pl.col("delta_band"))
        return df.filter(pl.col("kind") != 1).select(
            fornecedor_id=pl.when(f == 2).then(pl.lit("F99")).otherwise(pl.col("fornecedor_id")),
            ordem_id=pl.col("ordem_id"),
            nome=pl.when(f == 4).then(pl.concat_str(pl.col("nome"), pl.lit(" Jr"))).otherwise(pl.col("nome")),
            ativo_id=pl.when(f == 3).then(pl.lit("A99")).otherwise(pl.col("ativo_id")),
            data=pl.when(f == 1).then(pl.col("data") - pl.duration(days=1)).otherwise(pl.col("data")),
            cents=pl.when(f == 0).then(pl.col("cents") - delta).otherwise(pl.col("cents")),
        )

    def extra_base_rows(self, start: int, stop: int, outside: bool) -> pl.DataFrame:
        """TIPO_2 rows (inside the coverage) or rows before the coverage that must be ignored."""
        j = np.arange(start, stop, dtype=np.int64)
        back = (j % 7) + 20 if outside else np.ones_like(j)
        return pl.DataFrame(
            {"j": j, "data": np.datetime64(self.sc.data_referencia, "D") - back.astype("timedelta64[D]")}
        ).select(
            fornecedor_id=pl.concat_str(pl.lit("F"), (pl.col("j") % 10).cast(pl.String).str.zfill(2)),
            ordem_id=pl.concat_str(
                pl.lit(owned_prefixes(self.sc.data_referencia)[2 if outside else 1]),
                pl.col("j").cast(pl.String).str.zfill(10),
            ),
            nome=pl.lit(pl.Series(NAMES)).gather(pl.col("j") % len(NAMES)),
            ativo_id=pl.concat_str(pl.lit("A"), ((pl.col("j") * 3) % 20).cast(pl.String).str.zfill(2)),
            data=pl.col("data"),
            cents=((pl.col("j") * 104_729) % 5_000_000) - 500_000,
        )

    def bad_lines(self, t: np.ndarray) -> pl.Series:
        """Quarantine lines: reason = t // q, in the SPEC's order; each has exactly that one reason."""
        sc, d = self.sc, self.sc.delimiter
        ref = sc.data_referencia
        ok_date = (ref - timedelta(days=1)).isoformat()
        reason = t // self.q
        k = t % self.q
        lines = []
        # A few dozen lines per million rows: plain Python over this small set is clear and cheap.
        for r, kk, tt in zip(reason.tolist(), k.tolist(), t.tolist(), strict=True):
            oid = f"BAD{self.prefix}-{tt:08d}"
            fields = [f"F{kk % 10:02d}", oid, "Linha Ruim", "A01", ok_date, "10.00"]
            if r == 0:
                if kk % 2:
                    fields = fields[:5]
                else:
                    fields[2] = '"nome sem fim'
            elif r == 1:
                fields[2] = "   "
            elif r == 2:
                fields[5] = ("abc", "1e5", "R$ 10.00", "1.000.00")[kk % 4]
            elif r == 3:
                fields[4] = ("31/02/2024", "2024-13-01", "2024-2-3", "ontem")[kk % 4]
            elif r == 4:
                fields[4] = (
                    (ref + timedelta(days=1)).isoformat()
                    if kk % 2
                    else (ref - timedelta(days=sc.max_age_days + 5)).isoformat()
                )
            else:
                # Duplicate of a valid row that appears earlier in the file, otherwise valid.
                fields[1] = f"ORD{self.prefix}-{self.dup_target(tt):010d}"
                fields[4] = ok_date
            lines.append(d.join(fields))
        return pl.Series(lines, dtype=pl.String)

    def bad_position(self, t: np.ndarray) -> np.ndarray:
        """The valid-row index after which bad line ``t`` is written (spread over the file)."""
        return ((t + 1) * self.valid) // (self.n_bad + 1)

    def dup_target(self, t: int) -> int:
        return int(self.bad_position(np.array([t]))[0]) // 2


def generate(
    sc: Scenario,
    ingress_dir: Path,
    base_path: Path,
    table: str = "transacoes_internas",
    progress: Callable[[int, int], None] | None = None,
) -> GroundTruth:
    """Write ``<ingress>/<D>/<file>`` and add D to ``table`` in the DuckDB file ``base_path``.

    The table is created if missing; only D's own rows (``owned_by(D)``) are replaced, so other
    dates generated into the same base keep theirs. Returns D's truth over the whole base.
    """
    started = time.perf_counter()
    plan = _Plan(sc)
    day = sc.data_referencia
    day_dir = ingress_dir / day.isoformat()
    day_dir.mkdir(parents=True, exist_ok=True)
    csv_path = day_dir / sc.file_name
    base_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(base_path))
    con.execute("SET memory_limit = '512MB'")  # the base is written in chunks: keep memory flat
    con.execute(
        f'CREATE TABLE IF NOT EXISTS "{table}" (fornecedor_id VARCHAR, ordem_id VARCHAR, nome VARCHAR, '
        "ativo_id VARCHAR, data DATE, valor DECIMAL(18,2))"
    )
    con.execute(f'DELETE FROM "{table}" WHERE {owned_by(day)}')

    def insert(frame: pl.DataFrame) -> None:
        arrow = frame.with_columns(valor=_money_text(pl.col("cents"), pl.lit(False))).drop("cents").to_arrow()
        con.register("lote", arrow)
        con.execute(
            f'INSERT INTO "{table}" SELECT fornecedor_id, ordem_id, nome, ativo_id, data, CAST(valor AS DECIMAL(18,2)) FROM lote'
        )
        con.unregister("lote")

    header = sc.delimiter.join(["fornecedor_id", "ordem_id", "nome", "ativo_id", "data", "valor"])
    bad_positions = plan.bad_position(np.arange(plan.n_bad, dtype=np.int64))
    blank = 0
    counts3 = dict.fromkeys(FIELDS_TIPO_3, 0)
    bands = {"LOW": 0, "MEDIUM": 0, "HIGH": 0}
    coverage: list[date] = []
    with csv_path.open("wb") as out:
        out.write((header + "\n").encode(sc.encoding))
        for start in range(0, plan.valid, sc.chunk_rows):
            stop = min(start + sc.chunk_rows, plan.valid)
            df = plan.valid_frame(start, stop)
            good = pl.DataFrame(
                {"pos": np.arange(start, stop, dtype=np.int64) * 2, "line": plan.csv_lines(df)}
            )
            in_chunk = np.flatnonzero((bad_positions >= start) & (bad_positions < stop))
            bad = pl.DataFrame({"pos": bad_positions[in_chunk] * 2 + 1, "line": plan.bad_lines(in_chunk)})
            lines = pl.concat([good, bad]).sort("pos")["line"]
            # One blank line after each chunk: skipped and counted, never a row.
            out.write((lines.str.join("\n").item() + "\n\n").encode(sc.encoding))
            blank += 1
            insert(plan.base_rows(df))
            coverage += [cast(date, df["data"].min()), cast(date, df["data"].max())]  # a Date column
            stats = df.filter(pl.col("kind") == 3).group_by("field3", "delta_band").len()
            for f3, band, n in stats.iter_rows():
                counts3[FIELDS_TIPO_3[f3]] += n
                if f3 == 0:
                    bands[("LOW", "MEDIUM", "HIGH")[band]] += n
            if progress:
                progress(stop, plan.valid)
    for outside, total in ((False, plan.n2), (True, plan.n_out)):
        for start in range(0, total, sc.chunk_rows):
            insert(plan.extra_base_rows(start, min(start + sc.chunk_rows, total), outside))
    matched = plan.valid - plan.n1
    own = GroundTruth(
        data_referencia=day.isoformat(),
        linhas_csv=sc.rows,
        linhas_validas=plan.valid,
        linhas_quarentena=plan.n_bad,
        linhas_em_branco=blank,
        quarentena=dict.fromkeys(REASONS, plan.q),
        divergencias={
            "TIPO_1": plan.n1,
            "TIPO_2": plan.n2,
            **{f"TIPO_3_{f}": counts3[f] for f in FIELDS_TIPO_3},
        },
        severidade_tipo_3_valor=bands,
        linhas_base=0,
        linhas_base_escopo=matched + plan.n2,
        conciliadas_sem_divergencia=matched - plan.n3,
        cobertura_inicio=min(coverage).isoformat(),
        cobertura_fim=max(coverage).isoformat(),
        csv_path=str(csv_path),
        base_path=str(base_path),
        seconds=round(time.perf_counter() - started, 3),
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {GENERATIONS_TABLE} (tabela VARCHAR, data_referencia DATE, "
        "verdade_propria VARCHAR, PRIMARY KEY (tabela, data_referencia))"
    )
    con.execute(
        f"INSERT OR REPLACE INTO {GENERATIONS_TABLE} VALUES (?, ?, ?)",
        [table, day, json.dumps(asdict(own), ensure_ascii=False)],
    )
    truths = refresh_ground_truths(con, table, base_path.parent)
    con.close()
    truth = truths[day.isoformat()]
    truth.seconds = round(time.perf_counter() - started, 3)
    return truth


def refresh_ground_truths(con: duckdb.DuckDBPyConnection, table: str, folder: Path) -> dict[str, GroundTruth]:
    """Every date generated into ``table``: its own truth plus the other dates' rows in its coverage.

    One grouped query over the base: for each registered date E, the rows dated inside E's coverage
    that ``owned_by(E)`` does not claim. Writes ``ground_truth_<E>.json`` into ``folder`` (beside the
    base, not in the ingress folder, so the sensor never sees it).
    """
    registered = con.execute(
        f"SELECT data_referencia, verdade_propria FROM {GENERATIONS_TABLE} WHERE tabela = ? ORDER BY 1",
        [table],
    ).fetchall()
    ((n_base,),) = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()
    owns = " ".join(
        f"WHEN g.d = DATE '{d.isoformat()}' THEN {owned_by(d, 'b.ordem_id')}" for d, _ in registered
    )
    foreign = dict(
        con.execute(
            f"""
            WITH g AS (
                SELECT data_referencia AS d,
                       CAST(json_extract_string(verdade_propria, '$.cobertura_inicio') AS DATE) AS inicio,
                       CAST(json_extract_string(verdade_propria, '$.cobertura_fim') AS DATE) AS fim
                FROM {GENERATIONS_TABLE} WHERE tabela = ?
            )
            SELECT g.d, count(b.ordem_id) FILTER (WHERE NOT (CASE {owns} END))
            FROM g LEFT JOIN "{table}" b ON b.data BETWEEN g.inicio AND g.fim
            GROUP BY g.d
            """,
            [table],
        ).fetchall()
    )
    out = {}
    for d, own_json in registered:
        truth = GroundTruth(**json.loads(own_json))
        extra = int(foreign.get(d, 0))
        truth.tipo_2_de_outras_datas = extra
        truth.divergencias = {**truth.divergencias, "TIPO_2": truth.divergencias["TIPO_2"] + extra}
        truth.linhas_base_escopo += extra
        truth.linhas_base = n_base
        (folder / f"ground_truth_{d.isoformat()}.json").write_text(
            json.dumps(asdict(truth), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        out[d.isoformat()] = truth
    return out


def print_progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} linhas válidas")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def export_base_to_postgres(
    base_path: Path,
    pg_url: str,
    table: str = "transacoes_internas",
    source_table: str = "transacoes_internas",
    indexes: bool = True,
    dates: list[date] | None = None,
) -> int:
    """Add the generated ``dates`` (default: every date generated into the DuckDB base) to ``table``
    in Postgres, replacing only those dates' rows (``owned_by``); returns the table's row count.

    The table is created if missing (other dates and rows the generator does not own stay). The
    rows travel as one CSV stream (DuckDB ``COPY TO`` a temporary file, then Postgres ``COPY FROM
    STDIN``): NULL is an unquoted empty field and the empty string is ``""``, so both survive. With
    ``indexes``, a table this call creates gets what the snapshot's scope query can use: an index on
    ``data`` and one on the normalised ``ordem_id`` (the expression ``resources.postgres_snapshot``
    queries).
    """
    import tempfile

    import psycopg2

    from resources.internal_base import quoted_identifier
    from resources.postgres_snapshot import NORMALISED_ORDEM_ID, libpq_url

    target = quoted_identifier(table)
    source = quoted_identifier(source_table)
    with tempfile.TemporaryDirectory(prefix="recon_export_") as tmp:
        csv_path = Path(tmp) / "base.csv"
        con = duckdb.connect(str(base_path), read_only=True)
        if dates is None:
            dates = [
                r[0]
                for r in con.execute(
                    f"SELECT data_referencia FROM {GENERATIONS_TABLE} WHERE tabela = ? ORDER BY 1",
                    [source_table],
                ).fetchall()
            ]
        if not dates:
            raise ValueError(f"nenhuma data gerada em {base_path} ({source_table}) para exportar")
        owned = " OR ".join(owned_by(d) for d in dates)
        con.execute(
            f"COPY (SELECT fornecedor_id, ordem_id, nome, ativo_id, data, CAST(valor AS VARCHAR) AS valor "
            f"FROM {source} WHERE {owned}) TO {sql_literal(str(csv_path))} "
            "(FORMAT csv, HEADER false)"
        )
        con.close()
        conn = psycopg2.connect(libpq_url(pg_url))
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT to_regclass(%s) IS NULL", (target,))
                created = bool(cur.fetchone()[0])
                cur.execute(
                    f"CREATE TABLE IF NOT EXISTS {target} (fornecedor_id text, ordem_id text, nome text, "
                    "ativo_id text, data date, valor numeric(18,2))"
                )
                cur.execute(f"DELETE FROM {target} WHERE {owned}")
                with csv_path.open("rb") as source_csv:
                    cur.copy_expert(
                        f"COPY {target} FROM STDIN WITH (FORMAT csv)", source_csv, size=8 * 1024 * 1024
                    )
                if indexes and created:
                    cur.execute(f"CREATE INDEX ON {target} (data)")
                    cur.execute(f"CREATE INDEX ON {target} (({NORMALISED_ORDEM_ID}))")
                cur.execute(f"ANALYZE {target}")
                cur.execute(f"SELECT count(*) FROM {target}")
                return int(cur.fetchone()[0])
        finally:
            conn.close()
