"""The run's checkpoint: ``<checkpoints>/<job_id>/checkpoint.json``, in the design document's structure.

Written after every step by hooks on the assets (so the job, the UI's Materialize and asset
backfills all write one)::

    {"job_id", "start_time", "end_time", "status": RUNNING | SUCCESS | FAILED | TIMEOUT | GATED,
     "data_referencia",
     "progress": {"total_lines", "processed_lines", "pending_lines",
                  "last_completed_unit", "completed_units": [{"unit", "finished_at"}],
                  "completed_buckets": {model: {"buckets", "completed"}}},
     "checkpoint_location", "intermediate_data": {"work_dir", "files"},
     "error_details": {"error_type", "message", "stage"} | null,
     "resume", "root_run_id", "parent_run_id"}

Intermediates live in the date's work folder (keyed by date, not run), so Dagster's "re-execute
from failure" resumes at the failed step and reuses what the finished steps wrote.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq

from reconciliation_assets.contract import LINES_UNIT, PLAUSIBILIDADE, STEPS
from reconciliation_assets.day_paths import DayPaths
from reconciliation_assets.engine.buckets import bucket_progress
from reconciliation_assets.run_guard import DeadlineExceeded
from resources.storage import join_uri

CHECKPOINT_FILE = "checkpoint.json"
# The date's latest run, kept with the checkpoints (never inside the published output, so a
# re-run publishes byte-identical trees): the dashboard reads it to say when a date's run failed.
RUN_STATUS_DIR = "por_data"
RUN_STATUS_FILE = "execucao.json"
# STEPS (the units) and LINES_UNIT (the line-consuming one) are in the contract.
GATE_CHECK = PLAUSIBILIDADE
RESUME = (
    "Re-execute a execução a partir da falha (Re-execute → From failure) na UI, ou "
    '`dagster job execute … --tags \'{"dagster/partition": "D"}\'` para refazer a data inteira; '
    "as etapas concluídas não são refeitas na re-execução a partir da falha."
)


def checkpoint_location(checkpoint_uri: str, run_id: str) -> str:
    return join_uri(checkpoint_uri, run_id, CHECKPOINT_FILE)


def run_status_location(checkpoint_uri: str, data_referencia: str) -> str:
    """``<checkpoints>/por_data/data_referencia=D/execucao.json``: D's latest run, whatever its id."""
    return join_uri(checkpoint_uri, RUN_STATUS_DIR, f"data_referencia={data_referencia}", RUN_STATUS_FILE)


def _single_value(path: Path, column: str) -> int | None:
    """Sum of ``column`` in a small work file (the day's one-row statistics, the file list), if present."""
    try:
        table = pq.read_table(path, columns=[column])
    except (FileNotFoundError, OSError, KeyError, ValueError):
        return None
    return int(sum(v for v in table.column(column).to_pylist() if v is not None))


def line_progress(paths: DayPaths, completed: list[str]) -> dict[str, Any]:
    """Total, processed and pending lines of the day, from what the steps wrote so far."""
    total = _single_value(paths.estatisticas, "linhas_csv")
    if total is None:  # before validation: every physical line but the headers (blank ones included)
        physical = _single_value(paths.arquivos, "linhas_fisicas")
        total = None if physical is None else physical - pq.read_metadata(paths.arquivos).num_rows
    processed = (total or 0) if LINES_UNIT in completed else 0
    return {
        "total_lines": total,
        "processed_lines": processed,
        "pending_lines": None if total is None else total - processed,
    }


def failure_status(error: BaseException | None) -> str:
    if isinstance(error, DeadlineExceeded):
        return "TIMEOUT"
    if error is not None and GATE_CHECK in str(error):
        return "GATED"
    return "FAILED"


def error_details(error: BaseException | None, stage: str) -> dict[str, Any]:
    cause = error
    if isinstance(error, dg.Failure) and error.__cause__ is not None:
        cause = error.__cause__  # the real fault behind our own Failure wrapper
    text = str(error) if error is not None else ""
    return {
        "error_type": type(cause).__name__ if cause is not None else None,
        "message": (text.splitlines()[0] if text else "")[:500],
        "stage": stage,
    }


def build_checkpoint(
    previous: dict[str, Any] | None,
    *,
    run_id: str,
    job_name: str,
    tags: dict[str, str],
    step: str,
    failed: bool,
    error: BaseException | None,
    location: str,
    work_dir: str,
    now: datetime,
) -> dict[str, Any]:
    """The checkpoint after ``step`` finished (``failed=False``) or failed; pure, for tests."""
    day = tags.get("dagster/partition")
    paths = DayPaths.for_date(work_dir, str(day))
    doc: dict[str, Any] = previous or {
        "job_id": run_id,
        "job": job_name,
        "data_referencia": day,
        "start_time": now.isoformat(),
        "end_time": None,
        "status": "RUNNING",
        "progress": {"completed_units": [], "last_completed_unit": None},
        "checkpoint_location": location,
        "intermediate_data": {"work_dir": str(paths.root), "files": []},
        "error_details": None,
        "resume": RESUME,
        "root_run_id": tags.get("dagster/root_run_id", run_id),
        "parent_run_id": tags.get("dagster/parent_run_id"),
        "units": list(STEPS),
    }
    units = [u for u in doc["progress"]["completed_units"] if u["unit"] != step]
    if failed:
        doc["status"] = failure_status(error)
        doc["error_details"] = error_details(error, step)
        doc["end_time"] = now.isoformat()
    else:
        units.append({"unit": step, "finished_at": now.isoformat()})
        done = {u["unit"] for u in units}
        doc["status"] = "SUCCESS" if done >= set(STEPS) else "RUNNING"
        doc["error_details"] = None
        doc["end_time"] = now.isoformat() if doc["status"] == "SUCCESS" else None
    completed = [u["unit"] for u in units]
    doc["progress"] = {
        **line_progress(paths, completed),
        "last_completed_unit": completed[-1] if completed else None,
        "completed_units": units,
        # The divergences step's finer progress: buckets of each model already recorded in the
        # date's work folder, which a re-execution from failure does not compute again.
        "completed_buckets": bucket_progress(paths.baldes),
    }
    doc["intermediate_data"]["files"] = sorted(p.name for p in paths.root.glob("*.parquet"))
    doc["updated_at"] = now.isoformat()
    return doc


def _update(context: dg.HookContext, *, failed: bool) -> None:
    storage = context.resources.storage
    run = context.instance.get_run_by_id(context.run_id)
    location = checkpoint_location(storage.checkpoint_uri, context.run_id)
    doc = build_checkpoint(
        storage.read_json(location),
        run_id=context.run_id,
        job_name=context.job_name,
        tags=dict(run.tags) if run else {},
        step=context.step_key,
        failed=failed,
        error=context.op_exception if failed else None,
        location=location,
        work_dir=storage.work_dir,
        now=datetime.now(tz=UTC),
    )
    storage.write_json(location, doc)
    if doc.get("data_referencia"):
        status_uri = run_status_location(storage.checkpoint_uri, str(doc["data_referencia"]))
        storage.write_json(status_uri, run_status(doc))


def run_status(doc: dict[str, Any]) -> dict[str, Any]:
    """The part of a checkpoint a reader of the output needs: which run, how it ended, where it stopped."""
    keys = (
        "job_id",
        "data_referencia",
        "status",
        "start_time",
        "end_time",
        "error_details",
        "checkpoint_location",
    )
    return {k: doc.get(k) for k in keys}


@dg.success_hook(required_resource_keys={"storage"})
def checkpoint_step_done(context: dg.HookContext) -> None:
    _update(context, failed=False)


@dg.failure_hook(required_resource_keys={"storage"})
def checkpoint_step_failed(context: dg.HookContext) -> None:
    _update(context, failed=True)
