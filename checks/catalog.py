"""``catalogo_glue`` (WARN): D's publication is registered in the Glue Data Catalog.

The registration runs after D is published (``resources/glue.py``). Its failure never fails the
run — the Parquet is already where analysts read it, and Athena's partition projection does not
need the catalog's partitions — but engines that list partitions from Glue (Spark, Spectrum) miss D
until the next publication registers again, so it is reported here, where a failed WARN check
alerts (sensors/alerts.py), with the error in the metadata.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from checks.invariants import spec
from reconciliation_assets.contract import CATALOGO_GLUE

CATALOG_CHECKS = [
    spec(
        CATALOGO_GLUE,
        "divergencias",
        "As quatro tabelas publicadas e a partição da data estão registradas no Glue Data Catalog "
        "(RECON_GLUE_DATABASE); uma falha não desfaz a publicação e a próxima publicação registra de novo.",
        blocking=False,
    )
]


def catalog_check(outcome: dict[str, Any]) -> dg.AssetCheckResult:
    """``outcome``: ``{"estado": "desativado"|"nao_publicada"|"registrado"|"falhou", …}``."""
    state = outcome["estado"]
    metadata: dict[str, Any] = {"estado": state}
    if state == "registrado":
        description = f"registrado no banco {outcome['banco']} do Glue"
        metadata |= {
            "banco": outcome["banco"],
            "banco_no_glue": outcome["acao_banco"],
            "tabelas": ", ".join(f"{t}={a}" for t, a in outcome["tabelas"].items()),
            "particoes": ", ".join(f"{t}={a}" for t, a in outcome["particoes"].items()),
        }
    elif state == "falhou":
        description = f"publicada, mas não registrada no Glue: {outcome['erro']}"
        metadata |= {"banco": outcome["banco"], "erro": outcome["erro"]}
    elif state == "desativado":
        description = "não se aplica: RECON_GLUE_DATABASE vazio (registro no Glue desativado)"
    else:
        description = "não se aplica: nada da data foi publicado nesta execução"
    return dg.AssetCheckResult(
        check_name=CATALOGO_GLUE,
        asset_key=dg.AssetKey("divergencias"),
        passed=state != "falhou",
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )


def catalog_metadata(outcome: dict[str, Any]) -> str:
    """One line for the step's materialization metadata."""
    if outcome["estado"] == "registrado":
        return f"registrado em {outcome['banco']}"
    if outcome["estado"] == "falhou":
        return f"FALHOU em {outcome['banco']}: {outcome['erro']}"
    return outcome["estado"]
