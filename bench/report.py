"""Turn the benchmark's results into a Markdown table, a PNG chart and the environment it ran on."""

from __future__ import annotations

import hashlib
import os
import platform
import statistics
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
CHAIN_CODE = ("dbt_like_sql", "reconciliation_assets", "resources", "checks")
PACKAGES = ("dagster", "duckdb", "polars", "pyspark", "datacompy", "pyarrow", "psutil", "matplotlib")
TOOL_ORDER = ("chain", "chain_spark", "duckdb", "duckdb_raw", "polars", "datacompy", "spark")
TOOL_LABEL = {
    "chain": "project chain (Dagster job)",
    "chain_spark": "project chain, RECON_ENGINE=spark (local[2])",
    "duckdb": "DuckDB, one SQL statement",
    "duckdb_raw": "DuckDB, read_csv, no typing (literal)",
    "polars": "Polars lazy, streaming",
    "datacompy": "datacompy PolarsCompare",
    "spark": "PySpark local[2]",
}
GIB = 1024**3


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def chain_code_state() -> dict[str, Any]:
    """Which chain code a measurement ran: HEAD, uncommitted changes and a hash of the files."""
    digest = hashlib.sha256()
    for folder in CHAIN_CODE:
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".sql"}:
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())
    dirty = _git("status", "--porcelain", "--", *CHAIN_CODE)
    return {
        "commit": _git("rev-parse", "HEAD").strip(),
        "uncommitted_chain_files": [line[3:] for line in dirty.splitlines()],
        "chain_code_sha256": digest.hexdigest()[:16],
    }


def _java_version() -> str:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
        return (out.stderr or out.stdout).splitlines()[0]
    except (OSError, IndexError):
        return "not found"


def environment() -> dict[str, Any]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["java"] = _java_version()
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "versions": versions,
        "machine": {
            "cpu_count": os.cpu_count(),
            "cpu_model": cpu_model,
            "ram_bytes": psutil.virtual_memory().total,
            "ram_gib": round(psutil.virtual_memory().total / GIB, 1),
            "kernel": platform.release(),
            "platform": platform.platform(),
        },
    }


# ---- aggregation ------------------------------------------------------------------------------


def spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def summarise(entry: dict[str, Any], rows: int) -> None:
    """Fill an entry's medians from its successful runs (in place)."""
    ok = [r for r in entry["runs"] if r["status"] == "ok"]
    entry["wall_s"] = spread([r["wall_s"] for r in ok])
    entry["work_s"] = spread([r["work_s"] for r in ok if r.get("work_s") is not None])
    entry["startup_s"] = spread([r["wall_s"] - r["work_s"] for r in ok if r.get("work_s") is not None])
    entry["cpu_s"] = spread([r["cpu_s"] for r in ok])
    entry["peak_rss_bytes"] = max((r["peak_rss_bytes"] for r in ok), default=None)
    work = entry["work_s"]["median"] if entry["work_s"] else None
    entry["rows_per_s"] = round(rows / work) if work else None
    entry["status"] = (
        "ok"
        if ok and len(ok) == len(entry["runs"])
        else (entry["runs"][-1]["status"] if entry["runs"] else "not run")
    )
    if entry.get("chain_stages_runs"):
        stages: dict[str, list[float]] = {}
        for run in entry["chain_stages_runs"]:
            for k, v in run.items():
                if v is not None:
                    stages.setdefault(k, []).append(v)
        entry["stages_s"] = {k: round(statistics.median(v), 3) for k, v in stages.items()}


def add_ratios(size_entry: dict[str, Any]) -> None:
    tools = size_entry["tools"]
    ref = tools.get("duckdb")
    for entry in tools.values():
        entry["ratio_work_vs_duckdb"] = None
        entry["ratio_wall_vs_duckdb"] = None
        if ref and ref.get("work_s") and entry.get("work_s"):
            entry["ratio_work_vs_duckdb"] = round(entry["work_s"]["median"] / ref["work_s"]["median"], 2)
        if ref and ref.get("wall_s") and entry.get("wall_s"):
            entry["ratio_wall_vs_duckdb"] = round(entry["wall_s"]["median"] / ref["wall_s"]["median"], 2)


# ---- Markdown -----------------------------------------------------------------------------------


def _fmt_spread(s: dict[str, float] | None) -> str:
    if not s:
        return "–"
    return f"{s['median']:.2f} ({s['min']:.2f}–{s['max']:.2f})"


def _fmt_bytes(b: int | None) -> str:
    if not b:
        return "–"
    return f"{b / GIB:.2f} GiB" if b >= GIB else f"{b / 1024**2:.0f} MiB"


def _fmt_rows(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def _commands(results: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for size in results["sizes"].values():
        for e in size["tools"].values():
            c = e.get("command") or results.get("command")
            if c and c not in seen:
                seen.append(c)
    return seen


def _load_range(size: dict[str, Any]) -> str:
    loads = [
        r["load_avg_1min_before"]
        for e in size["tools"].values()
        for r in e["runs"]
        if r.get("load_avg_1min_before") is not None
    ]
    return f"{min(loads):.1f}–{max(loads):.1f}" if loads else "not recorded"


def _verdict(entry: dict[str, Any]) -> str:
    eq = entry.get("equal_comparable")
    if eq is None:
        return "–"
    text = "yes" if eq else "**no**: " + ", ".join(f"{k} {v:+d}" for k, v in entry["diff_comparable"].items())
    if entry.get("equal_full") is not None:
        text += " (exact, quarantine too)" if entry["equal_full"] else " (not exact)"
    return text


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    m, v = env["machine"], env["versions"]
    out = [
        "# Benchmark results",
        "",
        f"Machine: {m['cpu_count']} CPUs ({m['cpu_model']}), {m['ram_gib']} GiB RAM, kernel {m['kernel']}.",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        f"Preset `{results['preset']}`, reference date {results['date']}.",
        "",
        "Produced by (a later command run with `--merge` replaces only the tools it measured):",
        "",
        *[f"- `{c}`" for c in _commands(results)],
        "",
        "Times are seconds, median (min–max) over the repetitions. *wall*: the whole process, "
        "interpreter and imports included. *work*: inside the tool, start-up excluded (the chain: "
        "`execute_in_process` only; Spark: after the session is up). CPU: user+sys of the process tree. "
        "Peak RSS: the largest sum of RSS over the process tree (JVM included), polled every 50 ms, "
        "max over repetitions. rows/s and × DuckDB use the *work* median.",
        "",
        "| rows | tool | status | wall s | work s | start-up s | CPU s | peak RSS | rows/s | × DuckDB (work) | × DuckDB (wall) | counts = truth (comparable) | measured at |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size_key in sorted(results["sizes"], key=int):
        size = results["sizes"][size_key]
        for tool in [t for t in TOOL_ORDER if t in size["tools"]]:
            e = size["tools"][tool]
            cpu = f"{e['cpu_s']['median']:.1f}" if e.get("cpu_s") else "–"
            rps = f"{e['rows_per_s']:,}" if e.get("rows_per_s") else "–"
            rw = f"{e['ratio_work_vs_duckdb']:.2f}" if e.get("ratio_work_vs_duckdb") else "–"
            rl = f"{e['ratio_wall_vs_duckdb']:.2f}" if e.get("ratio_wall_vs_duckdb") else "–"
            status = e["status"] if e["status"] == "ok" else f"**{e['status']}**"
            out.append(
                f"| {_fmt_rows(int(size_key))} | {TOOL_LABEL.get(tool, tool)} | {status} | {_fmt_spread(e['wall_s'])} | "
                f"{_fmt_spread(e['work_s'])} | {_fmt_spread(e['startup_s'])} | {cpu} | {_fmt_bytes(e['peak_rss_bytes'])} | "
                f"{rps} | {rw} | {rl} | {_verdict(e)} | {e.get('measured_at', '')[:16]} |"
            )
    out += ["", "## The chain per stage (`duracao_s` from the materialization metadata, median)", ""]
    stage_names: list[str] = []
    for size in results["sizes"].values():
        for k in size["tools"].get("chain", {}).get("stages_s") or {}:
            if k not in stage_names:
                stage_names.append(k)
    if stage_names:
        out.append("| rows | " + " | ".join(stage_names) + " | sum of stages | job (work) | job − stages |")
        out.append("|---|" + "---|" * (len(stage_names) + 3))
        for size_key in sorted(results["sizes"], key=int):
            chain = results["sizes"][size_key]["tools"].get("chain")
            if not chain or not chain.get("stages_s") or not chain.get("work_s"):
                continue
            st = chain["stages_s"]
            total = sum(st.get(k) or 0 for k in stage_names)
            job = chain["work_s"]["median"]
            out.append(
                f"| {_fmt_rows(int(size_key))} | "
                + " | ".join(f"{st.get(k, 0):.2f}" for k in stage_names)
                + f" | {total:.2f} | {job:.2f} | {job - total:.2f} |"
            )
    out += ["", "## Divergence counts", ""]
    for size_key in sorted(results["sizes"], key=int):
        size = results["sizes"][size_key]
        exp = size["expected"]
        out.append(
            f"**{_fmt_rows(int(size_key))} rows** (CSV {size.get('csv_bytes', 0) / 1024**2:.0f} MiB, "
            f"1-minute load average before the runs {_load_range(size)}): ground truth {exp['full']}; comparable truth {exp['comparable']} "
            f"(the {exp['duplicated_ids']} duplicated ordem_id taken out; coverage {exp['coverage'][0]}…{exp['coverage'][1]})."
        )
        out.append("")
        for tool in [t for t in TOOL_ORDER if t in size["tools"]]:
            e = size["tools"][tool]
            if e.get("counts") is None:
                continue
            line = f"- {tool}: all rows {e['counts']}"
            if e.get("diff_full_vs_truth"):
                line += f"; vs full truth {e['diff_full_vs_truth']}"
            if e.get("quarentena") is not None:
                line += f"; quarentena {e['quarentena']} (truth {exp['quarentena']})"
            out.append(line)
        out.append("")
    chain_state = results.get("chain_code") or {}
    if chain_state:
        out += [
            "## Chain code measured",
            "",
            f"Commit `{chain_state.get('commit', '')[:12]}`, chain files hash `{chain_state.get('chain_code_sha256')}`, "
            f"uncommitted chain files: {', '.join(chain_state.get('uncommitted_chain_files') or []) or 'none'}.",
            "",
        ]
    failures = [
        (size_key, tool, e)
        for size_key, size in results["sizes"].items()
        for tool, e in size["tools"].items()
        if e["status"] != "ok"
    ]
    if failures:
        out += ["## Runs that did not finish", ""]
        for size_key, tool, e in failures:
            last = e["runs"][-1] if e["runs"] else {}
            tail = (last.get("stderr_tail") or "").splitlines()[-3:]
            out.append(f"- {_fmt_rows(int(size_key))} {tool}: {e['status']} — " + " / ".join(tail)[:400])
        out.append("")
    return "\n".join(out)


# ---- chart --------------------------------------------------------------------------------------


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(13, 5.2))
    for tool in TOOL_ORDER:
        xs, work, lo, hi, wall, mem = [], [], [], [], [], []
        for size_key in sorted(results["sizes"], key=int):
            e = results["sizes"][size_key]["tools"].get(tool)
            if not e or not e.get("work_s"):
                continue
            xs.append(int(size_key))
            work.append(e["work_s"]["median"])
            lo.append(e["work_s"]["median"] - e["work_s"]["min"])
            hi.append(e["work_s"]["max"] - e["work_s"]["median"])
            wall.append(e["wall_s"]["median"])
            mem.append(e["peak_rss_bytes"] / 1024**2)
        if not xs:
            continue
        line = ax_t.errorbar(xs, work, yerr=[lo, hi], marker="o", capsize=3, label=f"{tool} (work)")
        ax_t.plot(xs, wall, linestyle=":", marker=".", color=line[0].get_color(), label=f"{tool} (wall)")
        ax_m.plot(xs, mem, marker="o", color=line[0].get_color(), label=tool)
    ax_m.axhline(1024, color="grey", linestyle="--", linewidth=1)
    ax_m.text(0.01, 1024 * 1.05, "1 GiB", color="grey", fontsize=8, transform=ax_m.get_yaxis_transform())
    for ax, title, ylabel in (
        (ax_t, "Time vs rows (solid: work, dotted: whole process)", "seconds"),
        (ax_m, "Peak RSS of the process tree vs rows", "MiB"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rows in the CSV")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    ax_t.legend(fontsize=7, ncol=2)
    ax_m.legend(fontsize=8)
    m = results["environment"]["machine"]
    fig.suptitle(
        f"Reconciliation benchmark, preset {results['preset']}: {m['cpu_count']} CPUs, {m['ram_gib']} GiB RAM",
        fontsize=11,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
