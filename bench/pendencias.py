"""Benchmark of ``pendencias`` (SPEC 5.4): a 1M-row day carried over a state of 30 days of breaks.

    .venv/bin/python -m bench.pendencias [--rows 1000000] [--days 30] [--rate 0.05] [--repeat 3]
        [--scratch /tmp/recon-bench-pendencias] [--out bench/results]

Inputs are synthesised with DuckDB outside every timed region: D's validated rows and internal
scope (``--rows`` each), D's divergences (``--rate`` of the rows) and a previous state holding
``--days`` days of open breaks (each day's share still open, spread over the ages) plus resolved
ones. Then, ``--repeat`` times and each as its own process (``bench.measure``: wall, CPU, peak
RSS of the process tree), the project's step (``compute_breaks``: the model and its facts, on the
512MB default) and a peer: one DuckDB statement doing the same full outer join and scope lookup
into Parquet without the rules. Results: ``<out>/pendencias.json`` and ``pendencias.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import duckdb

from bench.measure import become_subreaper, run_measured

REPO = Path(__file__).resolve().parents[1]
DAY = "2024-06-30"


def synthesise(root: Path, rows: int, days: int, rate: float) -> dict[str, int]:
    work = root / "work" / f"data_referencia={DAY}"
    work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    n_div = int(rows * rate)
    con.execute(f"""COPY (SELECT 'F' || (i % 50) AS fornecedor_id, 'ORD-' || i AS ordem_id, 'Nome' AS nome,
        'A' || (i % 7) AS ativo_id, DATE '{DAY}' - 1 AS data, (i % 100000)::decimal(18,2) AS valor,
        't.csv' AS arquivo, i + 1 AS linha FROM range({rows}) t(i)) TO '{work}/validadas.parquet' (FORMAT parquet)""")
    con.execute(f"""COPY (SELECT 'F' || (i % 50) AS fornecedor_id, 'ORD-' || i AS ordem_id, 'Nome' AS nome,
        'A' || (i % 7) AS ativo_id, DATE '{DAY}' - 1 AS data, (i % 100000)::decimal(18,2) AS valor
        FROM range({rows}) t(i)) TO '{work}/base_interna.parquet' (FORMAT parquet)""")
    # D's divergences: TIPO_3_VALOR on the first n_div ordem_ids (half of them recurring from P).
    con.execute(f"""COPY (SELECT 'F' || (i % 50) AS fornecedor_id, 'ORD-' || i AS ordem_id, 'Nome' AS nome,
        'A' || (i % 7) AS ativo_id, DATE '{DAY}' - 1 AS data, DATE '{DAY}' - 1 AS data_base,
        10.00::decimal(18,2) AS valor_csv, 9.00::decimal(18,2) AS valor_base, 1.00::decimal(19,2) AS valor_diferenca,
        'TIPO_3_VALOR' AS tipo_divergencia, 'campo=valor; valor_csv=10.00; valor_base=9.00; diferenca=1.00' AS detalhes,
        'MEDIUM' AS severidade, sha256('ORD-' || i) AS hash_linha, now() AS "timestamp", 'bench' AS job_id
        FROM range({n_div}) t(i)) TO '{work}/divergencias.parquet' (FORMAT parquet)""")
    # P: `days` days of breaks. Day k contributed n_div breaks on ordem_ids of its own (outside D's
    # scope: EM_ABERTO carried), except the most recent day, which overlaps D (recurring/resolved).
    con.execute(f"""COPY (
        SELECT sha256(ordem_id || '|TIPO_3_VALOR') AS pendencia_id, ordem_id, 'TIPO_3_VALOR' AS tipo_divergencia,
            'F1' AS fornecedor_id, 'MEDIUM' AS severidade, 10.00::decimal(18,2) AS valor_csv,
            9.00::decimal(18,2) AS valor_base, 1.00::decimal(19,2) AS valor_diferenca,
            'campo=valor; valor_csv=10.00; valor_base=9.00; diferenca=1.00' AS detalhes,
            CASE WHEN k = 1 THEN 'NOVA' ELSE 'EM_ABERTO' END AS situacao,
            DATE '{DAY}' - k::integer AS aberta_em, DATE '{DAY}' - k::integer AS vista_em, NULL::date AS resolvida_em,
            (k - 1)::integer AS dias_em_aberto, faixa AS faixa_idade, 'anterior' AS job_id, now() AS "timestamp"
        FROM (SELECT k, i, CASE WHEN k = 1 THEN 'ORD-' || (i * 2) ELSE 'OLD-' || k || '-' || i END AS ordem_id,
                     CASE WHEN k - 1 <= 1 THEN '0-1' WHEN k - 1 <= 7 THEN '2-7' WHEN k - 1 <= 30 THEN '8-30' ELSE '>30' END AS faixa
              FROM range(1, {days} + 1) a(k), range({n_div}) b(i))
        ) TO '{root}/anterior.parquet' (FORMAT parquet)""")
    state = con.execute(f"SELECT count(*) FROM '{root}/anterior.parquet'").fetchone()[0]
    return {"linhas_dia": rows, "divergencias_dia": n_div, "estado_anterior": int(state)}


STEP = """
import sys
from pathlib import Path
from reconciliation_assets.breaks import PreviousState, compute_breaks
from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.engine.sql_models import EngineSettings
root = Path(sys.argv[1])
paths = DayPaths.for_date(root / "work", "{day}")
facts = compute_breaks(paths, "{day}", PreviousState("2024-06-29", "x", root / "anterior.parquet"),
                       job_id="bench", engine=EngineSettings(temp_dir=str(root / "tmp")))
print(facts["pendencias"], facts["novas"], facts["recorrentes"], facts["em_aberto"], facts["resolvidas"])
""".replace("{day}", DAY)

PEER = """
import sys, duckdb
root = sys.argv[1]
w = f"{root}/work/data_referencia={day}"
con = duckdb.connect(); con.execute("SET memory_limit='512MB'"); con.execute("SET threads=2")
con.execute(f"SET temp_directory='{root}/tmp_peer'")
n = con.execute(f'''COPY (SELECT coalesce(d.ordem_id, p.ordem_id) AS ordem_id, d.valor_diferenca, p.situacao,
    coalesce(d.ordem_id, p.ordem_id) IN (SELECT ordem_id FROM '{w}/validadas.parquet' UNION SELECT ordem_id FROM '{w}/base_interna.parquet') AS no_escopo
    FROM '{w}/divergencias.parquet' d FULL JOIN '{root}/anterior.parquet' p
    ON d.ordem_id = p.ordem_id AND d.tipo_divergencia = p.tipo_divergencia) TO '{root}/peer.parquet' (FORMAT parquet)''').fetchone()[0]
print(n)
""".replace("{day}", DAY)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rate", type=float, default=0.05)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/recon-bench-pendencias"))
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = ap.parse_args(argv)
    become_subreaper()
    args.scratch.mkdir(parents=True, exist_ok=True)
    sizes = synthesise(args.scratch, args.rows, args.days, args.rate)
    tools = {"pendencias": STEP, "duckdb_um_comando": PEER}
    results: dict[str, list] = {t: [] for t in tools}
    outputs: dict[str, str] = {}
    for _ in range(args.repeat):
        for tool, code in tools.items():
            m = run_measured(
                [sys.executable, "-c", code, str(args.scratch)],
                env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                cwd=REPO,
                log_path=args.scratch / f"{tool}.log",
                timeout_s=900,
                mem_cap_bytes=8 * 2**30,
            )
            assert m.status == "ok", (tool, m.status, m.stderr_tail)
            results[tool].append(m)
            outputs[tool] = m.stdout.strip()
    summary = {
        tool: {
            "wall_s_mediana": round(statistics.median(m.wall_s for m in ms), 2),
            "cpu_s_mediana": round(statistics.median(m.cpu_s for m in ms), 2),
            "pico_rss_mib": round(max(m.peak_rss_bytes for m in ms) / 2**20),
            "saida": outputs[tool],
        }
        for tool, ms in results.items()
    }
    ratio = summary["pendencias"]["wall_s_mediana"] / summary["duckdb_um_comando"]["wall_s_mediana"]
    report = {
        "entradas": sizes,
        "repeticoes": args.repeat,
        "ferramentas": summary,
        "razao_wall": round(ratio, 2),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pendencias.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    lines = [
        f"# pendencias: {sizes['linhas_dia']:,} linhas no dia, {sizes['divergencias_dia']:,} divergências, "
        f"estado anterior de {sizes['estado_anterior']:,} pendências ({args.days} dias); mediana de {args.repeat}",
        "",
        "| ferramenta | wall (s) | CPU (s) | pico RSS (MiB) | saída |",
        "|---|---|---|---|---|",
        *[
            f"| {t} | {s['wall_s_mediana']} | {s['cpu_s_mediana']} | {s['pico_rss_mib']} | {s['saida']} |"
            for t, s in summary.items()
        ],
        "",
        f"pendencias / duckdb_um_comando (wall): {ratio:.2f}x",
    ]
    (args.out / "pendencias.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
