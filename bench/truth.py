"""Ground truth for a generated day, and what each tool's output is compared against.

The generator writes ``ground_truth_<D>.json`` beside the base: the exact count per divergence
type *after* quarantine. The project's chain quarantines, so its counts must equal it exactly.
The peers quarantine nothing, so some of their rows come from lines the chain would quarantine:

- lines with a malformed row, a missing field, an invalid ``valor``/``data`` or a date out of
  range carry their own ``ordem_id`` (``BAD<D>-…``, never in the base): the peers report them as
  TIPO_1 (or with an empty key when the line cannot be split);
- ``DUPLICATE_ORDEM_ID`` lines repeat the ``ordem_id`` of an earlier valid line: the peers join
  both lines to the internal row (extra TIPO_3 rows, or a second TIPO_1);
- a quarantined date (after D, or older than 31 days) widens the peers' coverage
  ``[min(data), max(data)]``, so internal rows dated outside the true coverage become TIPO_2.

"Comparable" therefore means: drop every output row whose ``ordem_id`` is empty or belongs to a
quarantined line (both kinds above, known exactly from the generator's plan), drop TIPO_2 rows
dated outside the true coverage, and take the contribution of the duplicated ``ordem_id`` (the
first, valid occurrence) out of the ground truth too. What remains must match exactly.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from reconciliation_assets.generator import FIELDS_TIPO_3, PRESETS, REASONS, Scenario, _Plan
from reconciliation_assets.schemas import TIPOS_DIVERGENCIA

TIPOS = TIPOS_DIVERGENCIA


def scenario(rows: int, day: date, preset: str | None, seed: int = 42) -> Scenario:
    """The scenario ``recon generate --rows N --preset P --seed S --date D`` builds (cli._scenario)."""
    p = PRESETS[preset] if preset else {}
    return Scenario(
        rows=rows,
        data_referencia=day,
        seed=seed,
        tipo1_pct=p.get("tipo1_pct", 5.0),
        tipo2_pct=p.get("tipo2_pct", 3.0),
        tipo3_pct=p.get("tipo3_pct", 2.0),
    )


@dataclass
class Expected:
    """The generator's truth, and what to exclude to compare a tool that does no quarantine."""

    full: dict[str, int]
    comparable: dict[str, int]
    quarentena: dict[str, int]
    excluded_ids: list[str]
    coverage: tuple[date, date]
    duplicated_ids: int


def expected(sc: Scenario, truth_path: Path) -> Expected:
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    plan = _Plan(sc)
    if plan.valid != truth["linhas_validas"] or plan.n1 != truth["divergencias"]["TIPO_1"]:
        raise ValueError(
            f"{truth_path} was not generated with {sc}: rebuild the scenario from the same flags"
        )
    t = np.arange(plan.n_bad, dtype=np.int64)
    lines = plan.bad_lines(t).to_list()
    ids = [line.split(sc.delimiter)[1] for line in lines]
    dup_reason = REASONS.index("DUPLICATE_ORDEM_ID")
    dup_targets = sorted({plan.dup_target(int(x)) for x in t[t // plan.q == dup_reason]})
    # The first (valid) occurrence of a duplicated ordem_id counts in the truth; take it out too.
    adjust: Counter[str] = Counter()
    for i in dup_targets:
        row = plan.valid_frame(i, i + 1).row(0, named=True)
        if row["kind"] == 1:
            adjust["TIPO_1"] += 1
        elif row["kind"] == 3:
            adjust[f"TIPO_3_{FIELDS_TIPO_3[row['field3']]}"] += 1
    full = {k: int(truth["divergencias"].get(k, 0)) for k in TIPOS}
    first = plan.valid_frame(0, min(plan.valid, 7))["data"]  # data = D-1 - (i % 7)
    return Expected(
        full=full,
        comparable={k: full[k] - adjust[k] for k in TIPOS},
        quarentena={k: int(v) for k, v in truth["quarentena"].items()},
        excluded_ids=sorted(set(ids)),
        coverage=(first.min(), first.max()),
        duplicated_ids=len(dup_targets),
    )


def _con(exp: Expected | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET threads = 2")
    if exp is not None:
        con.execute("CREATE TABLE excluidos (ordem_id VARCHAR)")
        con.executemany("INSERT INTO excluidos VALUES (?)", [(i,) for i in exp.excluded_ids])
    return con


def counts(parquet_glob: str, exp: Expected) -> tuple[dict[str, int], dict[str, int]]:
    """(all rows per tipo, comparable rows per tipo) of a tool's divergence output."""
    con = _con(exp)
    rel = f"read_parquet('{parquet_glob}')"
    full = dict(con.execute(f"SELECT tipo_divergencia, count(*) FROM {rel} GROUP BY 1").fetchall())
    comparable = dict(
        con.execute(
            f"""
            SELECT tipo_divergencia, count(*) FROM {rel}
            WHERE coalesce(ordem_id, '') <> ''
              AND ordem_id NOT IN (SELECT ordem_id FROM excluidos)
              AND (tipo_divergencia <> 'TIPO_2' OR data_base BETWEEN $lo AND $hi)
            GROUP BY 1
            """,
            {"lo": exp.coverage[0], "hi": exp.coverage[1]},
        ).fetchall()
    )
    con.close()
    return {k: int(full.get(k, 0)) for k in sorted(set(full) | set(TIPOS))}, {
        k: int(comparable.get(k, 0)) for k in sorted(set(comparable) | set(TIPOS))
    }


def quarantine_counts(parquet_glob: str) -> dict[str, int]:
    con = _con()
    rows = con.execute(f"SELECT motivo, count(*) FROM read_parquet('{parquet_glob}') GROUP BY 1").fetchall()
    con.close()
    return {k: int(v) for k, v in rows}


def diff(got: dict[str, int], want: dict[str, int]) -> dict[str, int]:
    """got − want for every tipo where they differ."""
    keys = set(got) | set(want)
    return {k: got.get(k, 0) - want.get(k, 0) for k in sorted(keys) if got.get(k, 0) != want.get(k, 0)}
