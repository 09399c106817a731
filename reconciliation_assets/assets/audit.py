"""Check ``expectativas_divergencias``: the Great Expectations audit of a *published* date.

The divergence step already enforces the contract (``checks/expectations.py``) on every row before
publishing, in SQL. This check runs the same expectations through Great Expectations on a sample of
what was published, in its own run (job ``auditoria_expectativas``, started by the sensor
``auditoria_apos_publicacao``): GE's import and context (~2.5 s per process) never delay D's
publication, and a failure here is alerted like any other failed check (``alerta_checagens``).
"""

import tempfile
import warnings
from pathlib import Path

import dagster as dg

from checks.expectations import ge_audit
from reconciliation_assets.contract import EXPECTATIVAS_DIVERGENCIAS
from reconciliation_assets.partitions import daily_partitions
from resources.settings import DuckDBEngine
from resources.storage import ReconStorage


def _audit(
    context: dg.AssetCheckExecutionContext, storage: ReconStorage, duckdb_engine: DuckDBEngine
) -> dg.AssetCheckResult:
    day = context.partition_key
    engine = duckdb_engine.settings()
    if day not in storage.published_dates("resumo_conciliacao"):
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{day} não está publicada: não há tabela para auditar.",
            metadata={"publicada": False},
        )
    with tempfile.TemporaryDirectory(prefix="recon-auditoria-") as tmp:
        resumo = storage.fetch_published("resumo_conciliacao", day, Path(tmp))
        divergencias = storage.fetch_published("divergencias", day, Path(tmp))
        result = ge_audit(divergencias, resumo, engine)
    context.log.info(f"{day}: {result.description}")
    return result


# Partitioned like its asset: a preview feature of Dagster 1.13, its warning silenced here as in
# checks/invariants.py spec().
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", category=dg.PreviewWarning, message=".*partitions_def on an AssetCheckSpec"
    )
    expectativas_divergencias = dg.asset_check(
        asset="divergencias",
        name=EXPECTATIVAS_DIVERGENCIAS,
        partitions_def=daily_partitions,
        blocking=False,
        description=(
            "Auditoria Great Expectations da data publicada: as mesmas expectativas do contrato_divergencias "
            "(que já bloqueia a publicação, em todas as linhas) sobre uma amostra da tabela publicada e o "
            "resumo. Roda depois da publicação, em execução própria; não bloqueia."
        ),
    )(_audit)
