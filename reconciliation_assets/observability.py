"""Structured logs, masking and the design's alert thresholds, in one place.

Every stage of the chain logs one JSON line (``evento=etapa``) with the run id, the reference
date, the stage, its counts and its duration, through the run's Dagster logger, so the line is in
the run's event log (UI) and on the process's stderr for a log shipper. Nothing here reads data
row by row: masking of ``nome`` is a vectorised Polars expression for frames, a function for the
few values that reach metadata or messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import dagster as dg
import polars as pl

LOGGER_NAME = "recon"
MASK = "***"

# The design document's thresholds and the severity each one carries in metadata and alerts.
SEVERITY_OK = "OK"
QUARANTINE_RATE_SEVERITY = "CRITICAL"  # "ErrorRate > 5% -> CRITICAL"
DIVERGENCE_RATE_SEVERITY = "MEDIUM"  # "Divergences > 10% -> MEDIUM"
PROCESSING_TIME_SEVERITY = "HIGH"  # "Processing time > 18 min -> HIGH"
SLA_BREACH_SEVERITY = "CRITICAL"

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/\s:@]*):(?P<pw>[^/\s@]+)@")
_SECRET_QUERY = re.compile(r"(?i)\b(password|passwd|pwd|token|secret|api[_-]?key|sig|signature)=([^&\s;]+)")


def mask_nome(value: object) -> str:
    """``"José da Silva"`` -> ``"***Silva"``: only the last word is kept (SPEC 7)."""
    if value is None:
        return MASK
    words = str(value).split()
    return MASK + (words[-1] if words else "")


def mask_nome_expr(column: str = "nome") -> pl.Expr:
    """The same masking as :func:`mask_nome`, as a Polars expression over a whole column."""
    words = pl.col(column).cast(pl.Utf8).str.replace_all(r"\s+", " ").str.strip_chars().str.split(" ")
    last = words.list.last()
    return (pl.lit(MASK) + last.fill_null("")).alias(column)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secret values, credentials inside URLs and ``password=``-style query values."""
    out = str(text)
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        out = out.replace(secret, MASK)
    out = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", out)
    return _SECRET_QUERY.sub(lambda m: f"{m[1]}={MASK}", out)


def mask_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` whose ``nome``-like keys are masked, recursively."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            out[key] = mask_record(value)
        elif key.lower().startswith("nome") and value is not None:
            out[key] = mask_nome(value)
        else:
            out[key] = value
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def json_line(record: Mapping[str, Any]) -> str:
    return json.dumps(mask_record(record), ensure_ascii=False, default=_json_default, sort_keys=False)


def log_stage(
    context: dg.AssetExecutionContext,
    stage: str,
    *,
    counts: Mapping[str, Any] | None = None,
    duration_s: float | None = None,
    level: str = "info",
    **fields: Any,
) -> dict[str, Any]:
    """Log one JSON line for ``stage`` of this run and return the record (tests read it back)."""
    record: dict[str, Any] = {
        "evento": "etapa",
        "etapa": stage,
        "run_id": context.run_id,
        "data_referencia": context.partition_key if context.has_partition_key else None,
    }
    if duration_s is not None:
        record["duracao_s"] = round(float(duration_s), 3)
    if counts:
        record["contagens"] = {k: (int(v) if isinstance(v, bool | int) else v) for k, v in counts.items()}
    record.update(fields)
    getattr(context.log, level)(json_line(record))
    return record


def rate_severity(value: float, limit: float, severity: str) -> str:
    """``severity`` when ``value`` is above ``limit`` (the design's thresholds are strict), else OK."""
    return severity if value > limit else SEVERITY_OK


def threshold_metadata(
    *,
    taxa_quarentena: float | None = None,
    quarantine_rate_max: float | None = None,
    taxa_divergencia: float | None = None,
    divergence_rate_max: float | None = None,
    minutos_processamento: float | None = None,
    processing_warn_minutes: float | None = None,
) -> dict[str, Any]:
    """Numeric thresholds and the severity they give today's values, as asset metadata."""
    meta: dict[str, Any] = {}
    if taxa_quarentena is not None and quarantine_rate_max is not None:
        meta["limite_taxa_quarentena"] = dg.MetadataValue.float(float(quarantine_rate_max))
        meta["severidade_taxa_quarentena"] = rate_severity(
            taxa_quarentena, quarantine_rate_max, QUARANTINE_RATE_SEVERITY
        )
    if taxa_divergencia is not None and divergence_rate_max is not None:
        meta["limite_taxa_divergencia"] = dg.MetadataValue.float(float(divergence_rate_max))
        meta["severidade_taxa_divergencia"] = rate_severity(
            taxa_divergencia, divergence_rate_max, DIVERGENCE_RATE_SEVERITY
        )
    if minutos_processamento is not None and processing_warn_minutes is not None:
        meta["minutos_processamento"] = dg.MetadataValue.float(round(float(minutos_processamento), 2))
        meta["limite_minutos_processamento"] = dg.MetadataValue.float(float(processing_warn_minutes))
        meta["severidade_tempo_processamento"] = rate_severity(
            minutos_processamento, processing_warn_minutes, PROCESSING_TIME_SEVERITY
        )
    return meta


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Rows as a Markdown table for check/asset metadata (the UI renders it)."""
    if not rows:
        return "_(vazio)_"
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(r[h]).replace("|", "\\|") for h in headers) + " |" for r in rows]
    return "\n".join(lines)
