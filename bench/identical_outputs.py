"""Prove that two versions of the chain publish the same rows: a reference commit and this tree.

    python bench/identical_outputs.py --reference cfc930c [--days /tmp/recon-bench/normal_1000000 ...]
        [--rows 10000,200000] [--work /tmp/recon-identity]

Run it as a file (not ``-m``) from the repository root: each side runs in its own process with
``PYTHONPATH`` set to its own source tree (the reference is extracted with ``git archive`` into the
work folder, so no worktree or checkout is touched), and this file imports nothing of the project
itself. Two kinds of input:

1. **Generated days**: ``recon generate`` days of ``--rows`` (and any kept benchmark scratch folder
   given with ``--days``), run through the whole Dagster job (``bench.chain_runner``) by both sides.
   Every published table (``quarentena``, ``divergencias``, ``pendencias``, ``resumo_conciliacao``)
   and the day's ``validadas`` and ``base_interna`` work files are compared.
2. **The tests' fixtures**: every case of the hostile corpus (``tests/hostile/cases.py``, the
   reference's copy, so both sides read the same bytes) is staged and validated by both sides
   (``tests.chain.run_day``); their ``validadas``, ``quarentena`` and line accounting are compared,
   and a refused file must be refused with the same message. (The exact-output tests of the other
   fixtures — divergence rules, end to end — are run by pytest against this tree.)

A table is identical when it has the same columns and types and the same multiset of rows
(``EXCEPT ALL`` both ways), leaving out only what stamps the run: ``timestamp``, ``job_id``,
``started_at``, ``finished_at``. The file order is compared too and reported. Exits 1 on any
difference.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
DAY = "2024-03-10"
RUN_COLUMNS = {"timestamp", "job_id", "started_at", "finished_at"}
TABLES = ("quarentena", "divergencias", "pendencias", "resumo_conciliacao")
WORK_FILES = ("validadas", "base_interna")


# ---- the two source trees ----------------------------------------------------------------------------
def extract(commit: str, dest: Path) -> Path:
    """The reference commit's files under ``dest`` (``git archive``: no worktree, no checkout)."""
    if (dest / ".commit").exists() and (dest / ".commit").read_text() == commit:
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    (dest / ".commit").write_text(commit)
    return dest


def side_env(tree: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECON_") and k != "DAGSTER_HOME"}
    env["PYTHONPATH"] = str(tree)
    env.update(extra or {})
    return env


# ---- 1. generated days through the whole job ------------------------------------------------------------
def generate(root: Path, rows: int, preset: str, tree: Path) -> Path:
    if (root / "base" / f"ground_truth_{DAY}.json").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    cmd = [
        sys.executable, "-m", "reconciliation_assets.cli", "generate", "--date", DAY, "--rows", str(rows),
        "--seed", "42", "--ingress", str(root / "ingress"), "--base", str(root / "base" / "base_interna.duckdb"),
        "--quiet", "--preset", preset,
    ]  # fmt: skip
    subprocess.run(cmd, cwd=tree, env=side_env(tree), capture_output=True, check=True)
    return root


def run_chain(tree: Path, day_root: Path, out: Path) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    env = side_env(
        tree,
        {
            "RECON_INGRESS_URI": str(day_root / "ingress"),
            "RECON_OUTPUT_URI": str(out / "output"),
            "RECON_CHECKPOINT_URI": str(out / "checkpoints"),
            "RECON_WORK_DIR": str(out / "work"),
            "RECON_INTERNAL_DB_URL": f"duckdb:///{(day_root / 'base' / 'base_interna.duckdb').resolve()}",
            "RECON_DUCKDB_TEMP_DIR": str(out / "tmp"),
        },
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.chain_runner", "--date", DAY],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1]) if lines else {"success": False, "failures": [done.stderr[-2000:]]}
    result["wall_s"] = round(time.perf_counter() - started, 2)
    return result


def chain_files(out: Path) -> dict[str, Path]:
    files = {t: out / "output" / t / f"data_referencia={DAY}" / "part-0.parquet" for t in TABLES}
    files.update({w: out / "work" / f"data_referencia={DAY}" / f"{w}.parquet" for w in WORK_FILES})
    return files


# ---- 2. the tests' fixtures, staged and validated ----------------------------------------------------------
EMIT = r"""
import json, shutil, sys
from pathlib import Path
from reconciliation_assets.engine.header import HeaderError
from tests.chain import run_day
from tests.hostile.cases import CASES, FILE, big_line_case, big_single_line_file_case

out = Path(sys.argv[1])
for case in [*CASES, big_line_case(), big_single_line_file_case()]:
    files = case.content if isinstance(case.content, dict) else {FILE: case.content}
    tmp = out / "tmp" / case.name
    shutil.rmtree(tmp, ignore_errors=True)
    dest = out / case.name
    dest.mkdir(parents=True, exist_ok=True)
    try:
        result = run_day(tmp, files)
    except HeaderError as exc:
        (dest / "resultado.json").write_text(json.dumps({"recusado": str(exc)}))
        continue
    work = tmp / "work" / "data_referencia=2024-03-10"
    for name in ("validadas", "quarentena"):
        shutil.copy(work / f"{name}.parquet", dest / f"{name}.parquet")
    stats = {k: (v if isinstance(v, (int, dict)) or v is None else str(v)) for k, v in result.stats.items()}
    (dest / "resultado.json").write_text(json.dumps(stats, sort_keys=True, default=str))
    shutil.rmtree(tmp)
"""


def emit_fixtures(tree: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    # The corpus and its helpers are the reference's tests: both sides read the same fixtures.
    subprocess.run([sys.executable, "-c", EMIT, str(out)], cwd=tree, env=side_env(tree), check=True)


# ---- comparison --------------------------------------------------------------------------------------------
def compare_parquet(a: Path, b: Path) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    if not a.exists() or not b.exists():
        return {"igual": a.exists() == b.exists(), "nota": f"existe: {a.exists()} / {b.exists()}"}
    cols_a = con.execute(
        "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)", [str(a)]
    ).fetchall()
    cols_b = con.execute(
        "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)", [str(b)]
    ).fetchall()
    schema_a = [(c[0], c[1]) for c in cols_a]
    schema_b = [(c[0], c[1]) for c in cols_b]
    if schema_a != schema_b:
        return {"igual": False, "nota": f"colunas diferentes: {schema_a} / {schema_b}"}
    kept = ", ".join(f'"{name}"' for name, _ in schema_a if name not in RUN_COLUMNS)
    sa = f"(SELECT {kept} FROM read_parquet('{a}', hive_partitioning = false))"
    sb = f"(SELECT {kept} FROM read_parquet('{b}', hive_partitioning = false))"
    rows_a = con.execute(f"SELECT count(*) FROM {sa}").fetchone()[0]
    rows_b = con.execute(f"SELECT count(*) FROM {sb}").fetchone()[0]
    only_a = con.execute(f"SELECT count(*) FROM ({sa} EXCEPT ALL {sb})").fetchone()[0]
    only_b = con.execute(f"SELECT count(*) FROM ({sb} EXCEPT ALL {sa})").fetchone()[0]
    na = f"(SELECT row_number() OVER () AS n, {kept} FROM read_parquet('{a}', hive_partitioning = false))"
    nb = f"(SELECT row_number() OVER () AS n, {kept} FROM read_parquet('{b}', hive_partitioning = false))"
    order = con.execute(f"SELECT count(*) FROM ({na} EXCEPT ALL {nb})").fetchone()[0]
    return {
        "igual": rows_a == rows_b and only_a == 0 and only_b == 0,
        "linhas": [rows_a, rows_b],
        "so_na_referencia": only_a,
        "so_neste": only_b,
        "mesma_ordem": order == 0,
    }


def compare_fixtures(ref: Path, new: Path) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for case in sorted(p.name for p in ref.iterdir() if p.is_dir() and p.name != "tmp"):
        a, b = ref / case, new / case
        ra = json.loads((a / "resultado.json").read_text())
        rb = json.loads((b / "resultado.json").read_text()) if (b / "resultado.json").exists() else None
        # The accounting row may gain keys (e.g. the rows each file received); what both report must agree.
        entry: dict[str, Any] = {
            "resultado_igual": rb is not None and all(rb.get(k) == v for k, v in ra.items()),
            "chaves_novas": sorted(set(rb or {}) - set(ra)),
        }
        if "recusado" not in ra:
            for name in ("validadas", "quarentena"):
                entry[name] = compare_parquet(a / f"{name}.parquet", b / f"{name}.parquet")
        entry["igual"] = entry["resultado_igual"] and all(
            v["igual"] for k, v in entry.items() if isinstance(v, dict)
        )
        report[case] = entry
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", default="cfc930c", help="commit to compare with (default: cfc930c)")
    p.add_argument(
        "--rows", default="10000,200000", help="generated days to run, comma-separated ('' for none)"
    )
    p.add_argument("--presets", default="normal,divergente", help="generator presets for --rows")
    p.add_argument("--days", nargs="*", default=[], type=Path, help="kept bench scratch folders to run too")
    p.add_argument("--work", type=Path, default=Path("/tmp/recon-identity"))
    p.add_argument("--no-fixtures", action="store_true")
    args = p.parse_args(argv)

    ref_tree = extract(args.reference, args.work / "referencia")
    new_tree = REPO
    summary: dict[str, Any] = {"referencia": args.reference, "dias": {}, "fixtures": {}}
    ok = True

    days: list[tuple[str, Path]] = [(d.name, d) for d in args.days]
    for rows in [int(r) for r in args.rows.split(",") if r]:
        for preset in args.presets.split(","):
            days.append(
                (
                    f"{preset}_{rows}",
                    generate(args.work / "dias" / f"{preset}_{rows}", rows, preset, ref_tree),
                )
            )
    for name, root in days:
        runs = {}
        for side, tree in (("referencia", ref_tree), ("este", new_tree)):
            runs[side] = run_chain(tree, root, args.work / "saidas" / name / side)
        tables = {
            t: compare_parquet(fa, fb)
            for (t, fa), fb in zip(
                chain_files(args.work / "saidas" / name / "referencia").items(),
                chain_files(args.work / "saidas" / name / "este").values(),
                strict=True,
            )
        }
        same = all(r["success"] for r in runs.values()) and all(t["igual"] for t in tables.values())
        ok &= same
        summary["dias"][name] = {
            "igual": same,
            "tabelas": tables,
            "work_s": {s: r.get("work_s") for s, r in runs.items()},
            "falhas": {s: r.get("failures") for s, r in runs.items() if not r["success"]},
        }
        print(f"{name}: {'IGUAL' if same else 'DIFERENTE'} {json.dumps(summary['dias'][name])}", flush=True)

    if not args.no_fixtures:
        fixtures_ref = args.work / "fixtures" / "referencia"
        fixtures_new = args.work / "fixtures" / "este"
        emit_fixtures(ref_tree, fixtures_ref)
        # This tree's code with the reference's fixtures: the same cases on both sides.
        emit_fixtures_with(new_tree, ref_tree, fixtures_new)
        report = compare_fixtures(fixtures_ref, fixtures_new)
        different = [c for c, e in report.items() if not e["igual"]]
        ok &= not different
        summary["fixtures"] = {"casos": len(report), "diferentes": different}
        print(f"fixtures: {len(report)} casos, diferentes: {different or 'nenhum'}", flush=True)
        for case in different:
            print(f"  {case}: {json.dumps(report[case])}")
    (args.work / "resultado.json").write_text(json.dumps(summary, indent=1, default=str))
    print("RESULTADO:", "saídas idênticas" if ok else "HÁ DIFERENÇAS")
    return 0 if ok else 1


def emit_fixtures_with(code: Path, fixtures: Path, out: Path) -> None:
    """Run this tree's code on the reference's test fixtures (code first on the path)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = side_env(code)
    env["PYTHONPATH"] = f"{code}{os.pathsep}{fixtures}"
    # tests/ of the reference, shadowing nothing of the code: copy it beside the code's modules.
    shim = out.parent / "testes_referencia"
    shutil.rmtree(shim, ignore_errors=True)
    shutil.copytree(fixtures / "tests", shim / "tests")
    env["PYTHONPATH"] = f"{shim}{os.pathsep}{code}"
    subprocess.run([sys.executable, "-c", EMIT, str(out)], cwd=shim, env=env, check=True)


if __name__ == "__main__":
    sys.exit(main())
