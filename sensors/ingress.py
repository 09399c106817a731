"""Sensor ``ingresso_fornecedor``: a new or replaced ``<ingress>/YYYY-MM-DD/*.csv`` requests D's run.

One code path for S3 and the local folder: everything is listed through ``ReconStorage.list_ingress``.

Bounded listing (DAGSTER_NOTES item 3): each tick lists the ingress root from the first date of the
lookback window on (S3 ``StartAfter``), then only the date folders from ``today - N`` to tomorrow
(São Paulo time). The cursor is ``{"seen": {key: version}, "skipped": {key: version}}`` for what
that listing returned, so it never grows past the window. Nothing depends on timestamps: a version
is the S3 ETag (``mtime_ns-size`` locally), so objects with an identical LastModified, listings past
1000 keys (paginated) and replaced objects are all handled by comparing versions.

All changed files of one date in one tick become ONE run request (every run reads all files of the
date). Its run key is ``<D>/<name>@<version>`` for a single file, or ``<D>@sha256:<digest>`` of the
sorted ``key@version`` lines when several changed together; the daemon never starts two runs for
one run key. Entries that are not ``YYYY-MM-DD/*.csv``, dates outside the partitions and names with
``..`` or an absolute path are skipped and logged once per version.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from reconciliation_assets import clock
from reconciliation_assets.contract import ARRIVAL_TAG, CHANGED_FILES_TAG, FILE_TAG, JOB_NAME, TIMEZONE
from reconciliation_assets.partitions import daily_partitions
from resources.storage import IngressEntry, ReconStorage, csv_name_problem

SENSOR_NAME = "ingresso_fornecedor"


def _now() -> datetime:
    """The sensor's clock (São Paulo time); tests replace it to pin the window."""
    return clock.now().astimezone(ZoneInfo(TIMEZONE))


def _load_cursor(cursor: str | None) -> tuple[dict[str, str], dict[str, str]]:
    if not cursor:
        return {}, {}
    try:
        state = json.loads(cursor)
        return dict(state.get("seen", {})), dict(state.get("skipped", {}))
    except (ValueError, AttributeError, TypeError):
        return {}, {}


def _as_date(folder: str) -> date | None:
    if len(folder) != 10 or folder[4] != "-" or folder[7] != "-":
        return None
    try:
        return date.fromisoformat(folder)
    except ValueError:
        return None


def run_key_for(day: str, changed: list[IngressEntry]) -> str:
    """``D/name.csv@etag`` for one file; ``D@sha256:…`` over the sorted ``key@version`` lines for several."""
    lines = sorted(f"{e.relative}@{e.version}" for e in changed)
    if len(lines) == 1:
        return lines[0]
    return f"{day}@sha256:{hashlib.sha256(chr(10).join(lines).encode('utf-8')).hexdigest()}"


def evaluate_ingress(
    storage: ReconStorage, cursor: str | None, now: datetime, log: Any
) -> tuple[list[dg.RunRequest], str, list[str]]:
    """One tick: the run requests, the new cursor and the day folders listed (for the skip reason)."""
    seen, skipped = _load_cursor(cursor)
    today = now.date()
    first = today - timedelta(days=storage.ingress_lookback_days)
    last = today + timedelta(days=1)
    new_seen: dict[str, str] = {}
    new_skipped: dict[str, str] = {}
    requests: list[dg.RunRequest] = []
    listed: list[str] = []

    def skip(entry: IngressEntry, reason: str) -> None:
        new_skipped[entry.relative] = entry.version
        if skipped.get(entry.relative) != entry.version:
            log.warning(f"ingresso: {entry.relative!r} ignorado: {reason}")

    with dg.partition_loading_context(now):
        # The root, from the window's first date on: date folders, and anything misplaced beside them.
        for top in storage.list_ingress("", start_after=first.isoformat()):
            if not top.is_folder:
                skip(top, "fora de uma pasta de data YYYY-MM-DD/")
                continue
            folder = top.relative[:-1]
            day = _as_date(folder)
            if day is None:
                skip(top, "pasta não é uma data YYYY-MM-DD válida")
                continue
            if not first <= day <= last:
                skip(top, f"data fora da janela do sensor ({first} a {last})")
                continue
            in_partitions = daily_partitions.has_partition_key(folder)
            listed.append(folder)
            changed: list[IngressEntry] = []
            for entry in storage.list_ingress(folder):
                problem = csv_name_problem(entry.relative[len(folder) + 1 :])
                if problem is None and not in_partitions:
                    problem = "data fora das partições diárias"
                if problem is not None:
                    skip(entry, problem)
                    continue
                new_seen[entry.relative] = entry.version
                if seen.get(entry.relative) != entry.version:
                    changed.append(entry)
            if changed:
                newest = max(changed, key=lambda e: (e.last_modified, e.relative))
                assert newest.last_modified is not None
                requests.append(
                    dg.RunRequest(
                        run_key=run_key_for(folder, changed),
                        partition_key=folder,
                        tags={
                            ARRIVAL_TAG: newest.last_modified.isoformat(),
                            FILE_TAG: newest.uri,
                            CHANGED_FILES_TAG: str(len(changed)),
                        },
                    )
                )
    new_cursor = json.dumps({"seen": new_seen, "skipped": new_skipped}, sort_keys=True, ensure_ascii=False)
    return requests, new_cursor, listed


@dg.sensor(
    name=SENSOR_NAME,
    job_name=JOB_NAME,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Pede a execução de daily_reconciliation para a data D quando um <ingresso>/D/*.csv novo ou "
        "substituído aparece (S3 ou pasta local); uma execução por objeto (chave + ETag)."
    ),
)
def ingresso_fornecedor(context: dg.SensorEvaluationContext, storage: ReconStorage) -> dg.SensorResult:
    requests, new_cursor, listed = evaluate_ingress(storage, context.cursor, _now(), context.log)
    for request in requests:
        context.log.info(
            f"ingresso: execução pedida para {request.partition_key} (run key {request.run_key})"
        )
    if requests:
        return dg.SensorResult(run_requests=requests, cursor=new_cursor)
    folders = ", ".join(listed) if listed else "nenhuma pasta de data na janela"
    return dg.SensorResult(
        skip_reason=dg.SkipReason(f"nenhum *.csv novo ou substituído ({folders})"), cursor=new_cursor
    )
