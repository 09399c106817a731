"""Benchmark the project's chain against peers on the same generated day, in one command.

    .venv/bin/python -m bench.run --sizes 1000000,10000000 --repeat 3 [--preset normal|pico|divergente]
        [--tools chain,chain_spark,duckdb,duckdb_raw,polars,datacompy,spark] [--out bench/results] [--scratch /tmp/recon-bench]

For each size: ``recon generate`` writes the CSV, the internal DuckDB base and the ground truth
into the scratch folder; the base is exported once to Parquet for the peers that read Parquet
(outside every timed region). Then, ``--repeat`` times, every tool runs as its own process on the
same files (tools interleaved within a repetition), measured by ``bench.measure``: wall, CPU of
the process tree, peak RSS of the process tree. Each tool's divergence counts are compared with
the generator's ground truth (see ``bench.truth`` for what "comparable" means for tools that do no
quarantine). Results go to ``<out>/results.json``, ``results.md``, ``benchmark.png`` and
``environment.json``; ``--merge`` keeps the entries of tools not measured in this invocation (e.g.
re-running only the chain after it changed).

A tool that fails, times out (``--timeout-s``, default 600) or passes ``--mem-cap-gib`` is recorded
with that status, not retried, and skipped at the larger sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import report, truth
from bench.measure import become_subreaper, run_measured

REPO = Path(__file__).resolve().parents[1]
TOOLS = ("chain", "chain_spark", "duckdb", "duckdb_raw", "polars", "datacompy", "spark")
# The project's own job: on DuckDB (the default) and with RECON_ENGINE=spark (a local session).
CHAIN_TOOLS = ("chain", "chain_spark")
PARQUET_PEERS = {"polars", "datacompy", "spark"}


def _now() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="seconds")


def _log(msg: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", flush=True)


class SizeRun:
    """One size's scratch folder: the generated inputs and each tool's outputs."""

    def __init__(self, scratch: Path, rows: int, preset: str | None, day: date, seed: int):
        self.rows = rows
        self.day = day
        self.sc = truth.scenario(rows, day, preset, seed)
        self.root = scratch / f"{preset or 'default'}_{rows}"
        self.ingress = self.root / "ingress"
        self.base = self.root / "base" / "base_interna.duckdb"
        self.base_parquet = self.root / "base" / "base_interna.parquet"
        self.truth_path = self.root / "base" / f"ground_truth_{day.isoformat()}.json"
        self.csv = self.ingress / day.isoformat() / self.sc.file_name
        self.preset = preset
        self.seed = seed

    def out(self, tool: str) -> Path:
        return self.root / "out" / tool

    def prepare(self, reuse: bool, need_parquet: bool) -> dict[str, Any]:
        info: dict[str, Any] = {}
        if reuse and self.truth_path.exists() and self.csv.exists() and self.base.exists():
            _log(f"{self.rows:,} rows: reusing {self.root}")
            info["generation"] = json.loads(self.truth_path.read_text())
        else:
            shutil.rmtree(self.root, ignore_errors=True)
            cmd = [
                sys.executable, "-m", "reconciliation_assets.cli", "generate",
                "--date", self.day.isoformat(), "--rows", str(self.rows), "--seed", str(self.seed),
                "--ingress", str(self.ingress), "--base", str(self.base), "--quiet",
            ]  # fmt: skip
            if self.preset:
                cmd += ["--preset", self.preset]
            _log(f"{self.rows:,} rows: generating ({shlex.join(cmd[2:])})")
            done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
            info["generation"] = json.loads(done.stdout)
        if need_parquet and not self.base_parquet.exists():
            import duckdb

            con = duckdb.connect(str(self.base), read_only=True)
            con.execute(
                f"COPY transacoes_internas TO '{self.base_parquet}' (FORMAT parquet, COMPRESSION zstd)"
            )
            con.close()
        info["csv_bytes"] = self.csv.stat().st_size
        return info

    def command(self, tool: str, args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECON_") and k != "DAGSTER_HOME"}
        env["PYTHONUNBUFFERED"] = "1"
        env["PYSPARK_PYTHON"] = sys.executable
        tmp = self.root / "tmp" / tool
        if tool in CHAIN_TOOLS:
            env.update(
                {
                    "RECON_INGRESS_URI": str(self.ingress),
                    "RECON_OUTPUT_URI": str(self.out(tool)),
                    "RECON_CHECKPOINT_URI": str(self.root / "checkpoints"),
                    "RECON_WORK_DIR": str(self.root / "work"),
                    "RECON_INTERNAL_DB_URL": f"duckdb:///{self.base.resolve()}",
                    "RECON_DUCKDB_TEMP_DIR": str(tmp),
                }
            )
            if tool == "chain_spark":
                env.update(
                    {
                        "RECON_ENGINE": "spark",
                        "RECON_SPARK_MASTER": f"local[{args.threads}]",
                        "RECON_SPARK_DRIVER_MEMORY": args.spark_driver_memory,
                    }
                )
            return [sys.executable, "-m", "bench.chain_runner", "--date", self.day.isoformat()], env
        out = self.out(tool) / ("divergencias" if tool == "spark" else "divergencias.parquet")
        cmd = [
            sys.executable, "-m", "bench.peers", tool,
            "--csv", str(self.csv), "--base-duckdb", str(self.base), "--base-parquet", str(self.base_parquet),
            "--out", str(out), "--threads", str(args.threads), "--memory-limit", args.memory_limit,
            "--spark-driver-memory", args.spark_driver_memory, "--temp-dir", str(tmp),
        ]  # fmt: skip
        return cmd, env

    def output_glob(self, tool: str) -> str:
        if tool in CHAIN_TOOLS:
            return str(self.out(tool) / "divergencias" / f"data_referencia={self.day}" / "*.parquet")
        if tool == "spark":
            return str(self.out(tool) / "divergencias" / "*.parquet")
        return str(self.out(tool) / "divergencias.parquet")

    def clean(self, tool: str) -> None:
        shutil.rmtree(self.out(tool), ignore_errors=True)
        shutil.rmtree(self.root / "tmp" / tool, ignore_errors=True)
        if tool in CHAIN_TOOLS:
            shutil.rmtree(self.root / "work", ignore_errors=True)
            shutil.rmtree(self.root / "checkpoints", ignore_errors=True)


def _last_json(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def _evaluate(entry: dict[str, Any], sr: SizeRun, tool: str, exp: truth.Expected) -> None:
    full, comparable = truth.counts(sr.output_glob(tool), exp)
    entry["counts"] = full
    entry["counts_comparable"] = comparable
    entry["diff_comparable"] = truth.diff(comparable, exp.comparable)
    entry["equal_comparable"] = not entry["diff_comparable"]
    entry["diff_full_vs_truth"] = truth.diff(full, exp.full)
    if tool in CHAIN_TOOLS:
        q = truth.quarantine_counts(
            str(sr.out(tool) / "quarentena" / f"data_referencia={sr.day}" / "*.parquet")
        )
        entry["quarentena"] = q
        entry["equal_full"] = not entry["diff_full_vs_truth"] and q == exp.quarentena


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", help="comma-separated row counts (default: the preset's rows)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--preset", choices=sorted(truth.PRESETS), default="normal")
    p.add_argument("--tools", default=",".join(TOOLS), help=f"subset of {','.join(TOOLS)}")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    p.add_argument("--scratch", type=Path, default=Path("/tmp/recon-bench"))
    p.add_argument("--date", type=date.fromisoformat, default=date(2024, 3, 10))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--timeout-s", type=float, default=600.0, help="per run; past it the run is killed")
    p.add_argument(
        "--mem-cap-gib",
        type=float,
        default=round(psutil.virtual_memory().total * 0.75 / 1024**3, 1),
        help="kill a run whose process tree passes this RSS (default: 75%% of RAM)",
    )
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="DuckDB peers' threads")
    p.add_argument("--memory-limit", default="2GB", help="DuckDB peers' memory_limit (the chain's default)")
    p.add_argument("--spark-driver-memory", default="2g")
    p.add_argument("--keep-data", action="store_true", help="keep the scratch folder of each size")
    p.add_argument(
        "--reuse-data", action="store_true", help="reuse a kept scratch folder instead of generating"
    )
    p.add_argument("--merge", action="store_true", help="keep results.json entries of tools not run now")
    args = p.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(args.tools) - set(TOOLS)
    if unknown:
        p.error(f"unknown tools: {sorted(unknown)}")
    preset_rows = truth.PRESETS[args.preset]["rows"]
    args.sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [preset_rows]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    subreaper = become_subreaper()
    args.out.mkdir(parents=True, exist_ok=True)
    args.scratch.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    results: dict[str, Any] = {"sizes": {}}
    if args.merge and results_path.exists():
        results = json.loads(results_path.read_text())
    results.update(
        {
            "preset": args.preset,
            "date": args.date.isoformat(),
            "repeat": args.repeat,
            "command": "python -m bench.run " + shlex.join(argv if argv is not None else sys.argv[1:]),
            "environment": report.environment(),
            "measurement": {"poll_s": 0.05, "subreaper": subreaper, "timeout_s": args.timeout_s,
                            "mem_cap_gib": args.mem_cap_gib},
        }
    )  # fmt: skip
    if set(CHAIN_TOOLS) & set(args.tools):
        results["chain_code"] = report.chain_code_state() | {"measured_at": _now()}
    mem_cap = int(args.mem_cap_gib * 1024**3)
    given_up: dict[str, str] = {}
    for rows in sorted(args.sizes):
        sr = SizeRun(args.scratch, rows, args.preset, args.date, args.seed)
        info = sr.prepare(args.reuse_data, need_parquet=bool(PARQUET_PEERS & set(args.tools)))
        exp = truth.expected(sr.sc, sr.truth_path)
        size_entry = results["sizes"].setdefault(str(rows), {"tools": {}})
        size_entry.update(
            {
                "csv_bytes": info["csv_bytes"],
                "generation_s": info["generation"].get("seconds"),
                "expected": asdict(exp) | {"excluded_ids": len(exp.excluded_ids)},
            }
        )
        size_entry["expected"]["coverage"] = [str(d) for d in exp.coverage]
        entries: dict[str, dict[str, Any]] = {}
        for tool in args.tools:
            entries[tool] = {"runs": [], "measured_at": _now(), "command": results["command"]}
            if tool in CHAIN_TOOLS:
                entries[tool].update(
                    {k: v for k, v in results.get("chain_code", {}).items() if k != "measured_at"}
                )
                entries[tool]["chain_stages_runs"] = []
            if tool in given_up:
                entries[tool]["runs"].append({"status": f"skipped ({given_up[tool]})"})
        for rep in range(1, args.repeat + 1):
            for tool in args.tools:
                entry = entries[tool]
                if tool in given_up:
                    continue
                sr.clean(tool)
                cmd, env = sr.command(tool, args)
                load_before = round(os.getloadavg()[0], 2)
                _log(f"{rows:,} rows, run {rep}/{args.repeat}: {tool} (load average {load_before})")
                m = run_measured(
                    cmd,
                    env=env,
                    cwd=REPO,
                    log_path=sr.root / "logs" / f"{tool}_{rep}.log",
                    timeout_s=args.timeout_s,
                    mem_cap_bytes=mem_cap,
                )
                payload = _last_json(m.stdout) or {}
                status = m.status
                if status == "ok" and tool in CHAIN_TOOLS and not payload.get("success"):
                    status = "failed"
                run = {
                    "status": status,
                    "returncode": m.returncode,
                    "wall_s": m.wall_s,
                    "cpu_s": m.cpu_s,
                    "peak_rss_bytes": m.peak_rss_bytes,
                    "work_s": payload.get("work_s"),
                    "rows_out": payload.get("rows_out"),
                    "max_procs": m.max_procs,
                    "load_avg_1min_before": load_before,
                    "at": _now(),
                }
                if tool in CHAIN_TOOLS and payload:
                    run.update({k: payload.get(k) for k in ("import_s", "defs_s", "checks", "failures")})
                    entry["chain_stages_runs"].append(payload.get("stages") or {})
                if status != "ok":
                    run["stderr_tail"] = m.stderr_tail
                    given_up[tool] = f"{status} at {rows:,} rows"
                entry["runs"].append(run)
                _log(
                    f"  -> {status}: wall {m.wall_s:.1f}s, work {payload.get('work_s')}s, cpu {m.cpu_s:.1f}s, "
                    f"peak {m.peak_rss_bytes / 1024**2:.0f} MiB"
                )
                if status == "ok":
                    _evaluate(entry, sr, tool, exp)
                    if not entry["equal_comparable"]:
                        _log(f"  counts differ from the truth (comparable): {entry['diff_comparable']}")
        for tool, entry in entries.items():
            report.summarise(entry, rows)
            size_entry["tools"][tool] = entry
        report.add_ratios(size_entry)
        if not args.keep_data:
            shutil.rmtree(sr.root, ignore_errors=True)
        _write(results, args.out)
    _write(results, args.out)
    _log(f"results in {args.out}")
    return 0


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _write(results: dict[str, Any], out: Path) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    (out / "environment.json").write_text(json.dumps(results["environment"], indent=2))
    (out / "results.md").write_text(report.markdown(results) + "\n", encoding="utf-8")
    try:
        report.chart(results, out / "benchmark.png")
    except ImportError:
        _log("matplotlib is not installed: no chart (pip install -e '.[bench]')")


if __name__ == "__main__":
    sys.exit(main())
