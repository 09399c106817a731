"""The resource set, built from environment variables with embedded local defaults (SPEC 7)."""

from __future__ import annotations

from typing import Any

from dagster_aws.s3 import S3Resource

from reconciliation_assets.contract import WORK_AREA
from reconciliation_assets.partitions import TIMEZONE, daily_partitions
from resources.env import collect_configuration_errors, env_int_or, env_or, env_value_or
from resources.glue import GlueCatalog
from resources.internal_base import InternalBase
from resources.notify import Notifier
from resources.settings import Deadlines, DuckDBEngine, PainelAccess, ReconRules
from resources.storage import ReconStorage
from resources.work_area import WorkAreaIOManager


def s3_resource() -> S3Resource:
    """S3 client settings: ``AWS_ENDPOINT_URL`` (any S3-compatible server) and the region.

    Credentials are not copied here: boto3's own chain reads ``AWS_ACCESS_KEY_ID`` /
    ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``, web identity or the instance
    role, and ``AWS_CA_BUNDLE``, so secrets never pass through Dagster config.
    """
    return S3Resource(
        endpoint_url=env_or("AWS_ENDPOINT_URL", None),
        region_name=env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", None)),
    )


def build_resources() -> dict[str, Any]:
    """Unset variables fall back to local folders under ./recon_data and an embedded DuckDB base.

    Every value taken from the environment is validated here, when the code location loads; all
    invalid variables are reported together in one ``ConfigurationError`` naming each of them.
    """
    s3 = s3_resource()
    resources = collect_configuration_errors(
        {
            "storage": lambda: _storage(s3),
            "internal_base": _internal_base,
            "rules": _rules,
            "deadlines": build_deadlines,
            "notifier": build_notifier,
            "duckdb_engine": _duckdb_engine,
            "glue_catalog": build_glue_catalog,
        }
    )
    # The steps hand their outputs to each other through the storage's local work folder.
    resources[WORK_AREA] = WorkAreaIOManager(storage=resources["storage"])
    return resources


def _storage(s3: S3Resource) -> ReconStorage:
    return ReconStorage(
        ingress_uri=env_or("RECON_INGRESS_URI", "recon_data/ingress"),
        output_uri=env_or("RECON_OUTPUT_URI", "recon_data/output"),
        checkpoint_uri=env_or("RECON_CHECKPOINT_URI", "recon_data/checkpoints"),
        work_dir=env_or("RECON_WORK_DIR", "recon_data/work"),
        s3=s3,
        s3_sse=env_or("RECON_S3_SSE", ""),
        s3_sse_kms_key_id=env_or("RECON_S3_SSE_KMS_KEY_ID", ""),
        ingress_lookback_days=env_int_or("RECON_INGRESS_LOOKBACK_DAYS", 3),
    )


def _internal_base() -> InternalBase:
    return InternalBase(
        db_url=env_or("RECON_INTERNAL_DB_URL", "duckdb:///recon_data/base_interna.duckdb"),
        table=env_or("RECON_INTERNAL_TABLE", "transacoes_internas"),
        statement_timeout_s=env_int_or("RECON_INTERNAL_DB_STATEMENT_TIMEOUT_S", 600),
        connect_timeout_s=env_int_or("RECON_INTERNAL_DB_CONNECT_TIMEOUT_S", 10),
    )


def _rules() -> ReconRules:
    # Dagster has no float EnvVar: the two rates are read now (their errors still name the variable).
    return ReconRules(
        max_age_days=env_int_or("RECON_MAX_AGE_DAYS", 31),
        severity_high=env_or("RECON_SEVERITY_HIGH", "1000.00"),
        severity_medium=env_or("RECON_SEVERITY_MEDIUM", "1.00"),
        sla_minutes=env_int_or("RECON_SLA_MINUTES", 20),
        sla_warn_minutes=env_int_or("RECON_SLA_WARN_MINUTES", 18),
        quarantine_rate_max=env_value_or("RECON_QUARANTINE_RATE_MAX", 0.05),
        divergence_rate_max=env_value_or("RECON_DIVERGENCE_RATE_MAX", 0.10),
        min_taxa_casamento=env_value_or("RECON_MIN_TAXA_CASAMENTO", 0.50),
        max_taxa_divergencia=env_value_or("RECON_MAX_TAXA_DIVERGENCIA", 0.50),
        retry_base_seconds=env_value_or("RECON_RETRY_BASE_SECONDS", 30.0),
        max_retries=env_int_or("RECON_MAX_RETRIES", 3),
    )


def _duckdb_engine() -> DuckDBEngine:
    return DuckDBEngine(
        memory_limit=env_or("RECON_DUCKDB_MEMORY_LIMIT", DuckDBEngine.model_fields["memory_limit"].default),
        threads=env_int_or("RECON_DUCKDB_THREADS", DuckDBEngine.model_fields["threads"].default),
        temp_dir=env_or("RECON_DUCKDB_TEMP_DIR", "recon_data/tmp"),
        divergence_buckets=env_int_or("RECON_DIVERGENCE_BUCKETS", 0),
        engine=env_or("RECON_ENGINE", "duckdb"),
        spark_master=env_or("RECON_SPARK_MASTER", "local[2]"),
        spark_remote=env_or("SPARK_REMOTE", ""),  # Spark Connect's own variable
        spark_driver_memory=env_or("RECON_SPARK_DRIVER_MEMORY", "1g"),
    )


def build_glue_catalog() -> GlueCatalog:
    """Off unless a database is named; refused with a local output (the catalog points at S3)."""
    return GlueCatalog(
        database=env_or("RECON_GLUE_DATABASE", ""),
        output_uri=env_or("RECON_OUTPUT_URI", "recon_data/output"),
        range_start=daily_partitions.start.date().isoformat(),
    )


def build_deadlines() -> Deadlines:
    """Also read by ``build_defs`` to shape the freshness policies and the safety-net schedule,
    so these values are read when the definitions load (``env_value_or``), not deferred."""
    return Deadlines(
        timezone=TIMEZONE,
        file_deadline=env_value_or("RECON_FILE_DEADLINE", "07:00"),
        divergences_deadline=env_value_or("RECON_DIVERGENCES_DEADLINE", "07:20"),
        days_after=env_value_or("RECON_DEADLINE_DAYS_AFTER", 1),
    )


def build_notifier() -> Notifier:
    """Slack webhook and/or SMTP from the environment; secrets stay ``EnvVar`` (never shown in the UI)."""
    return Notifier(
        slack_webhook_url=env_or("RECON_SLACK_WEBHOOK_URL", ""),
        smtp_host=env_or("RECON_SMTP_HOST", ""),
        smtp_port=env_int_or("RECON_SMTP_PORT", 0),
        smtp_user=env_or("RECON_SMTP_USER", ""),
        smtp_password=env_or("RECON_SMTP_PASSWORD", ""),
        smtp_from=env_or("RECON_SMTP_FROM", "conciliacao@localhost"),
        smtp_to=env_or("RECON_SMTP_TO", ""),
        smtp_tls=env_or("RECON_SMTP_TLS", "none"),
        smtp_ca_file=env_or("RECON_SMTP_CA_FILE", ""),
        ui_base_url=env_or("RECON_UI_BASE_URL", ""),
        runbook_url=env_or("RECON_RUNBOOK_URL", ""),
        painel_url=env_or("RECON_PAINEL_URL", ""),
        checkpoint_uri=env_or("RECON_CHECKPOINT_URI", "recon_data/checkpoints"),
    )


def reader_settings() -> tuple[ReconStorage, Any]:
    """What a reader of the published output (the dashboard) needs: where it is and DuckDB's limits."""
    import dagster as dg

    # build_resources resolves the EnvVars exactly as a run would; the values outlive the context.
    with dg.build_resources({"storage": _storage(s3_resource()), "engine": _duckdb_engine()}) as built:
        return built.storage, built.engine.settings()


def painel_access() -> PainelAccess:
    """``RECON_PAINEL_LOGIN`` (nenhum | oidc) and ``RECON_PAINEL_LOGIN_PROVEDOR`` for the dashboard."""
    import dagster as dg

    resource = PainelAccess(
        login=env_or("RECON_PAINEL_LOGIN", "nenhum"), provedor=env_or("RECON_PAINEL_LOGIN_PROVEDOR", "")
    )
    with dg.build_resources({"access": resource}) as built:
        return built.access
