"""How the validation step reads the day's lines as few times as it can (DuckDB execution, no rules).

The rules are the models in ``dbt_like_sql/`` (``linhas_avaliadas``, ``ordens_repetidas``,
``linhas_classificadas``, ``validadas``, ``quarentena``, ``estatisticas_linhas``); this module only
decides what is written between them:

- The raw line (``conteudo``) is needed only by the quarantine, so ``linhas_avaliadas`` is written
  with it only where a quarantine reason is already known. Nearly every line is valid, so the file
  every later model reads shrinks to the parsed fields.
- A line quarantined as ``DUPLICATE_ORDEM_ID`` is only known after the whole day is evaluated; its
  raw text is read back from the staged lines, once, for those lines only, when there are any.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciliation_assets.engine.sql_models import PARQUET_OPTIONS, ModelRunner, load_model, sql_literal


def write_evaluated_lines(runner: ModelRunner, out: Path, params: dict[str, Any]) -> int:
    """Write model ``linhas_avaliadas`` to ``out`` with ``conteudo`` kept only on quarantined lines."""
    sql = load_model("linhas_avaliadas")
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = runner.con.execute(
        "COPY (SELECT * REPLACE (CASE WHEN motivo_previo IS NULL THEN NULL ELSE conteudo END AS conteudo) "
        f"FROM ({sql})) TO {sql_literal(str(out))} ({PARQUET_OPTIONS})",
        {k: v for k, v in params.items() if f"${k}" in sql},
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def register_quarantine_candidates(runner: ModelRunner, relation: str, evaluated: Path) -> None:
    """Expose as ``relation`` the evaluated lines that can end in the quarantine, each with its raw text.

    Those are the lines with a reason already and the occurrences of a repeated ``ordem_id``
    (``ordens_repetidas``, already materialised): ``linhas_classificadas`` gives every other line no
    reason, so the quarantine computed from these is the quarantine computed from all lines. The raw
    text of the repeated ones comes from ``linhas`` (the staged lines).
    """
    source = f"read_parquet({sql_literal(str(evaluated))}, hive_partitioning = false)"
    ((repeated,),) = runner.con.execute("SELECT count(*) FROM ordens_repetidas").fetchall()
    candidates = f"SELECT * FROM {source} WHERE motivo_previo IS NOT NULL" + (
        " OR ordem_id IN (SELECT ordem_id FROM ordens_repetidas)" if repeated else ""
    )
    if not repeated:
        runner.con.execute(f"CREATE OR REPLACE TEMP VIEW {relation} AS {candidates}")
        return
    runner.con.execute(f"CREATE OR REPLACE TEMP TABLE candidatas_quarentena AS {candidates}")
    runner.con.execute(
        f"CREATE OR REPLACE TEMP VIEW {relation} AS "
        "WITH sem_texto AS (SELECT arquivo_idx, linha FROM candidatas_quarentena WHERE conteudo IS NULL), "
        "textos AS (SELECT l.arquivo_idx, l.linha, l.conteudo FROM linhas AS l "
        "SEMI JOIN sem_texto AS s ON l.arquivo_idx = s.arquivo_idx AND l.linha = s.linha) "
        "SELECT c.* REPLACE (coalesce(c.conteudo, t.conteudo) AS conteudo) FROM candidatas_quarentena AS c "
        "LEFT JOIN textos AS t ON c.arquivo_idx = t.arquivo_idx AND c.linha = t.linha"
    )


def materialize_repeated_orders(runner: ModelRunner, relation: str, evaluated: Path) -> int:
    """Materialise model ``ordens_repetidas`` over the lines whose ``ordem_id`` hash repeats.

    Grouping every valid line by its ``ordem_id`` text is the step's costliest aggregate; grouping
    the 64-bit hashes is cheap, and a line whose hash occurs once among the valid lines cannot share
    its ``ordem_id`` with another. So the model sees only the lines of repeated hashes (all the
    lines of every repeated ``ordem_id``, a few hash collisions besides, which it groups apart) and
    gives exactly the rows it gives over every line. ``relation`` is left as the whole file.
    """
    source = f"read_parquet({sql_literal(str(evaluated))}, hive_partitioning = false)"
    runner.con.execute(
        "CREATE OR REPLACE TEMP TABLE hashes_repetidos AS SELECT hash(ordem_id) AS h "
        f"FROM {source} WHERE motivo_previo IS NULL GROUP BY 1 HAVING count(*) > 1"
    )
    runner.con.execute(
        f"CREATE OR REPLACE TEMP VIEW {relation} AS SELECT * FROM {source} "
        "WHERE hash(ordem_id) IN (SELECT h FROM hashes_repetidos)"
    )
    try:
        return runner.materialize("ordens_repetidas")
    finally:
        runner.register_parquet(relation, evaluated)
