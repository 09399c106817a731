"""Business thresholds and engine sizing, as resources fed by environment variables."""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation

import dagster as dg
from pydantic import field_validator

from reconciliation_assets.engine.sql_models import EngineSettings


def env_or(name: str, default: str) -> str | dg.EnvVar:
    """``EnvVar(name)`` when the variable is set, else ``default``.

    Dagster refuses an unset ``EnvVar``; this keeps the embedded default (no environment at all)
    working while the UI still shows which values come from the environment.
    """
    return dg.EnvVar(name) if os.environ.get(name) else default


def env_int_or(name: str, default: int) -> int | dg.EnvVar:
    return dg.EnvVar.int(name) if os.environ.get(name) else default


class ReconRules(dg.ConfigurableResource):
    """The SPEC's tunable rules: how old a row may be and where severities start."""

    max_age_days: int = 31
    severity_high: str = "1000.00"
    severity_medium: str = "1.00"
    sla_minutes: int = 20
    sla_warn_minutes: int = 18

    @field_validator("severity_high", "severity_medium")
    @classmethod
    def _decimal(cls, value: str) -> str:
        try:
            parsed = Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"limiar de severidade inválido: {value!r} (use, por exemplo, 1000.00)") from exc
        if not parsed.is_finite() or parsed < 0:
            raise ValueError(f"limiar de severidade inválido: {value!r}")
        return value

    @field_validator("max_age_days")
    @classmethod
    def _age(cls, value: int) -> int:
        if value < 0:
            raise ValueError("RECON_MAX_AGE_DAYS deve ser >= 0")
        return value

    @property
    def high(self) -> Decimal:
        return Decimal(self.severity_high)

    @property
    def medium(self) -> Decimal:
        return Decimal(self.severity_medium)


class DuckDBEngine(dg.ConfigurableResource):
    """How much of the machine DuckDB may use. Past ``memory_limit`` joins spill to ``temp_dir``."""

    memory_limit: str = "2GB"
    threads: int = max(1, os.cpu_count() or 1)
    temp_dir: str = "recon_data/tmp"

    def settings(self) -> EngineSettings:
        return EngineSettings(memory_limit=self.memory_limit, threads=self.threads, temp_dir=self.temp_dir)
