"""The resource set, built from environment variables with embedded local defaults (SPEC 7)."""

from __future__ import annotations

from typing import Any

from dagster_aws.s3 import S3Resource

from resources.internal_base import InternalBase
from resources.settings import DuckDBEngine, ReconRules, env_int_or, env_or
from resources.storage import ReconStorage


def build_resources() -> dict[str, Any]:
    """Unset variables fall back to local folders under ./recon_data and an embedded DuckDB base."""
    s3 = S3Resource(
        endpoint_url=env_or("AWS_ENDPOINT_URL", None),
        region_name=env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", None)),
    )
    return {
        "storage": ReconStorage(
            ingress_uri=env_or("RECON_INGRESS_URI", "recon_data/ingress"),
            output_uri=env_or("RECON_OUTPUT_URI", "recon_data/output"),
            checkpoint_uri=env_or("RECON_CHECKPOINT_URI", "recon_data/checkpoints"),
            work_dir=env_or("RECON_WORK_DIR", "recon_data/work"),
            s3=s3,
            s3_sse=env_or("RECON_S3_SSE", ""),
            s3_sse_kms_key_id=env_or("RECON_S3_SSE_KMS_KEY_ID", ""),
        ),
        "internal_base": InternalBase(
            db_url=env_or("RECON_INTERNAL_DB_URL", "duckdb:///recon_data/base_interna.duckdb"),
            table=env_or("RECON_INTERNAL_TABLE", "transacoes_internas"),
        ),
        "rules": ReconRules(
            max_age_days=env_int_or("RECON_MAX_AGE_DAYS", 31),
            severity_high=env_or("RECON_SEVERITY_HIGH", "1000.00"),
            severity_medium=env_or("RECON_SEVERITY_MEDIUM", "1.00"),
        ),
        "duckdb_engine": DuckDBEngine(
            memory_limit=env_or("RECON_DUCKDB_MEMORY_LIMIT", "2GB"),
            threads=env_int_or("RECON_DUCKDB_THREADS", DuckDBEngine.model_fields["threads"].default),
            temp_dir=env_or("RECON_DUCKDB_TEMP_DIR", "recon_data/tmp"),
        ),
    }
