"""Business thresholds and engine sizing, as resources fed by environment variables."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from reconciliation_assets.engine.runners import ENGINES
from reconciliation_assets.engine.sql_models import DEFAULT_MEMORY_LIMIT, EngineSettings
from resources.env import EnvValidatedResource, env_int_or, env_or, env_value_or

__all__ = ["Deadlines", "DuckDBEngine", "ReconRules", "env_int_or", "env_or", "env_value_or"]


class ReconRules(EnvValidatedResource):
    """The SPEC's tunable rules: how old a row may be and where severities start."""

    max_age_days: int = 31
    severity_high: str = "1000.00"
    severity_medium: str = "1.00"
    sla_minutes: int = 20
    sla_warn_minutes: int = 18
    # Quality thresholds of the design document (issue 6): above them a check fails and alerts.
    quarantine_rate_max: float = 0.05  # "ErrorRate > 5% -> CRITICAL"
    divergence_rate_max: float = 0.10  # "Divergences > 10% -> MEDIUM"
    # Plausibility gates (blocking): a day outside these is held, not published (checks/plausibility.py).
    # A normal day matches ~95 % of its rows and the design's load test diverges 20 %.
    min_taxa_casamento: float = 0.50  # share of the file's valid rows found in the internal base
    max_taxa_divergencia: float = 0.50  # share of ordem_ids in scope that diverge
    # Retries of transient faults (reconciliation_assets/run_guard.py): 30 s, 1 min, 2 min, ...
    retry_base_seconds: float = 30.0
    max_retries: int = 3

    @field_validator("severity_high", "severity_medium")
    @classmethod
    def _decimal(cls, value: str) -> str:
        try:
            parsed = Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(
                f"limiar de severidade inválido: {value!r} (use um decimal >= 0, ex.: 1000.00)"
            ) from exc
        if not parsed.is_finite() or parsed < 0:
            raise ValueError(f"limiar de severidade inválido: {value!r} (use um decimal >= 0, ex.: 1000.00)")
        return value

    @field_validator("max_age_days")
    @classmethod
    def _age(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"idade máxima inválida: {value} (use um inteiro >= 0)")
        return value

    @field_validator("sla_minutes", "sla_warn_minutes")
    @classmethod
    def _minutes(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"minutos inválidos: {value} (use um inteiro >= 1)")
        return value

    @field_validator(
        "quarantine_rate_max", "divergence_rate_max", "min_taxa_casamento", "max_taxa_divergencia"
    )
    @classmethod
    def _rate(cls, value: float) -> float:
        if not 0 <= value <= 1:
            raise ValueError(f"taxa fora de [0, 1]: {value!r} (use, por exemplo, 0.05 para 5%)")
        return value

    @field_validator("retry_base_seconds")
    @classmethod
    def _base(cls, value: float) -> float:
        if value < 0:
            raise ValueError("RECON_RETRY_BASE_SECONDS deve ser >= 0")
        return value

    @field_validator("max_retries")
    @classmethod
    def _retries(cls, value: int) -> int:
        if not 0 <= value <= 10:
            raise ValueError("RECON_MAX_RETRIES deve estar entre 0 e 10")
        return value

    @property
    def high(self) -> Decimal:
        return Decimal(self.severity_high)

    @property
    def medium(self) -> Decimal:
        return Decimal(self.severity_medium)


class DuckDBEngine(EnvValidatedResource):
    """Which engine runs the models, and how much of the machine DuckDB may use.

    ``engine`` (``RECON_ENGINE``): ``duckdb`` (default; past ``memory_limit`` joins spill to
    ``temp_dir``) or ``spark``: the same models translated to Spark SQL (engine/spark_runner.py), on
    Spark Connect when ``spark_remote`` (``SPARK_REMOTE``) is set, else a local session
    (``spark_master``, ``RECON_SPARK_MASTER``). The resource keeps its name so that every asset and
    check gets the engine the same way whichever it is (docs/deploy.md, "Spark").
    """

    engine: str = "duckdb"
    spark_master: str = "local[2]"
    spark_remote: str = ""
    spark_driver_memory: str = "1g"

    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int = max(1, os.cpu_count() or 1)
    temp_dir: str = "recon_data/tmp"
    # Hash buckets of ordem_id for the divergences' and the breaks' joins (engine/buckets.py):
    # 0 = from the day's size (~4M rows of the larger side per bucket; 1 for a small day).
    divergence_buckets: int = 0

    @field_validator("threads")
    @classmethod
    def _threads(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"threads inválido: {value} (use um inteiro >= 1)")
        return value

    @field_validator("divergence_buckets")
    @classmethod
    def _buckets(cls, value: int) -> int:
        if not 0 <= value <= 4096:
            raise ValueError(f"baldes inválido: {value} (use 0 = automático, ou um inteiro de 1 a 4096)")
        return value

    @field_validator("engine")
    @classmethod
    def _engine(cls, value: str) -> str:
        if value not in ENGINES:
            raise ValueError(f"motor inválido: {value!r} (use duckdb ou spark)")
        return value

    @field_validator("spark_remote")
    @classmethod
    def _remote(cls, value: str) -> str:
        if value and not value.startswith("sc://"):
            raise ValueError("use o endereço do Spark Connect, sc://host:15002")
        return value

    def settings(self) -> EngineSettings:
        return EngineSettings(
            memory_limit=self.memory_limit,
            threads=self.threads,
            temp_dir=self.temp_dir,
            buckets=self.divergence_buckets,
            engine=self.engine,
            spark_master=self.spark_master,
            spark_remote=self.spark_remote,
            spark_driver_memory=self.spark_driver_memory,
        )


class Deadlines(EnvValidatedResource):
    """When a reference date D is due: the supplier's file and the published divergences.

    Both are local times (``HH:MM`` in ``timezone``) on day ``D + days_after`` (the supplier sends
    D's file the next morning). They feed the cron freshness policies (read when the code location
    loads), the partition-aware "published by the deadline" check and the safety-net schedule.
    """

    timezone: str = "America/Sao_Paulo"
    file_deadline: str = "07:00"
    divergences_deadline: str = "07:20"
    days_after: int = 1

    @field_validator("file_deadline", "divergences_deadline")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        try:
            hour, minute = (int(p) for p in value.split(":"))
        except ValueError as exc:
            raise ValueError(f"prazo inválido: {value!r} (use HH:MM, ex.: 07:20)") from exc
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError(f"prazo inválido: {value!r} (use HH:MM, ex.: 07:20)")
        return f"{hour:02d}:{minute:02d}"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"fuso horário desconhecido: {value!r}") from exc
        return value

    @field_validator("days_after")
    @classmethod
    def _days(cls, value: int) -> int:
        if not 0 <= value <= 7:
            raise ValueError(f"dias após D inválido: {value} (use um inteiro de 0 a 7)")
        return value

    @staticmethod
    def cron(hhmm: str) -> str:
        """``"07:20"`` -> ``"20 7 * * *"`` (daily, in ``timezone``)."""
        hour, minute = (int(p) for p in hhmm.split(":"))
        return f"{minute} {hour} * * *"

    def deadline(self, data_referencia: str | date, which: str = "divergencias") -> datetime:
        """The aware local datetime by which D's ``which`` ("arquivo" or "divergencias") is due."""
        day = date.fromisoformat(data_referencia) if isinstance(data_referencia, str) else data_referencia
        hhmm = self.file_deadline if which == "arquivo" else self.divergences_deadline
        hour, minute = (int(p) for p in hhmm.split(":"))
        return datetime.combine(
            day + timedelta(days=self.days_after), time(hour, minute), tzinfo=ZoneInfo(self.timezone)
        )

    def reference_date_due_at(self, when: datetime) -> date:
        """The reference date whose deadline falls on ``when``'s local day."""
        return when.astimezone(ZoneInfo(self.timezone)).date() - timedelta(days=self.days_after)


class PainelAccess(EnvValidatedResource):
    """Who may open ``recon painel``: anyone who reaches it (behind the company's proxy), or only a
    user logged in through the company's OIDC provider (Streamlit's ``st.login``)."""

    login: str = "nenhum"  # "oidc": the page shows nothing until the user has logged in
    provedor: str = ""  # the [auth.<provedor>] section of .streamlit/secrets.toml; empty = [auth]

    @field_validator("login")
    @classmethod
    def _login(cls, value: str) -> str:
        if value not in ("nenhum", "oidc"):
            raise ValueError(f"login inválido: {value!r} (use nenhum ou oidc)")
        return value
