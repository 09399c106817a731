"""Plausibility gates: a day that looks wrong is held, never published green.

The balance control closes trivially when every row is explained as TIPO_1/TIPO_2 (an emptied
internal base, another date's rows only), so it cannot catch a wrong *input*. These gates can:

* ``ESCOPO_INTERNO_VAZIO`` — the file has valid rows but no internal row is in scope;
* ``CASAMENTO_BAIXO`` — the share of the file's valid rows found in the base (``taxa_casamento``)
  is below ``min_taxa_casamento``;
* ``DIVERGENCIA_ALTA`` — ``taxa_divergencia`` is above ``max_taxa_divergencia``.

The check ``plausibilidade`` is blocking: a failure stops the run before anything of D is
published, the previous output stays, and the alert is CRITICAL. An operator who has confirmed the
day can publish it deliberately with the run tag ``recon/publicar_mesmo_assim=true``; the check
then passes, still shows the reasons, and the release is recorded in the publication manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from checks.invariants import spec
from reconciliation_assets.contract import PLAUSIBILIDADE, RELEASE_TAG

PLAUSIBILITY_CHECKS = [
    spec(
        PLAUSIBILIDADE,
        "divergencias",
        "O dia é plausível: há base interna em escopo quando o arquivo tem linhas, a taxa de casamento está "
        "acima do piso e a taxa de divergência abaixo do teto. Falhou: nada da data é publicado (alerta CRITICAL).",
    )
]


def released_by_operator(tags: Mapping[str, str]) -> bool:
    return tags.get(RELEASE_TAG, "").strip().lower() in {"true", "1", "sim", "yes"}


def gate_reasons(resumo: dict[str, Any], min_taxa_casamento: float, max_taxa_divergencia: float) -> list[str]:
    """Why the day looks wrong (empty when it looks right), with observed and expected figures."""
    validas = int(resumo["linhas_validas"])
    escopo = int(resumo["linhas_base_escopo"])
    taxa_casamento = matched_share(resumo)
    taxa_divergencia = float(resumo["taxa_divergencia"])
    reasons = []
    if validas > 0 and escopo == 0:
        reasons.append(
            f"ESCOPO_INTERNO_VAZIO: o arquivo tem {validas} linhas válidas e a base interna não tem nenhuma "
            "linha em escopo (base vazia, tabela errada ou só linhas de outras datas?)"
        )
    elif validas > 0 and taxa_casamento < min_taxa_casamento:
        reasons.append(
            f"CASAMENTO_BAIXO: só {taxa_casamento:.2%} das linhas válidas ({resumo['casadas']} de {validas}) "
            f"foram encontradas na base; o piso é {min_taxa_casamento:.2%} (RECON_MIN_TAXA_CASAMENTO)"
        )
    if taxa_divergencia > max_taxa_divergencia:
        reasons.append(
            f"DIVERGENCIA_ALTA: taxa_divergencia {taxa_divergencia:.2%} acima do teto "
            f"{max_taxa_divergencia:.2%} (RECON_MAX_TAXA_DIVERGENCIA)"
        )
    return reasons


def matched_share(resumo: dict[str, Any]) -> float:
    validas = int(resumo["linhas_validas"])
    return int(resumo["casadas"]) / validas if validas else 1.0


def plausibility_check(
    resumo: dict[str, Any],
    *,
    min_taxa_casamento: float,
    max_taxa_divergencia: float,
    released: bool,
    inputs_change: dict[str, Any],
) -> dg.AssetCheckResult:
    reasons = gate_reasons(resumo, min_taxa_casamento, max_taxa_divergencia)
    passed = not reasons or released
    if not reasons:
        text = "dia plausível"
    elif released:
        text = "liberado pelo operador (recon/publicar_mesmo_assim) apesar de: " + "; ".join(reasons)
    else:
        text = "dia retido, nada publicado: " + "; ".join(reasons)
    return dg.AssetCheckResult(
        check_name=PLAUSIBILIDADE,
        asset_key=dg.AssetKey("divergencias"),
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=text,
        metadata={
            "motivo": "; ".join(r.split(":")[0] for r in reasons) or "-",
            "detalhe": text,
            "linhas_validas": int(resumo["linhas_validas"]),
            "linhas_base_escopo": int(resumo["linhas_base_escopo"]),
            "casadas": int(resumo["casadas"]),
            "taxa_casamento": dg.MetadataValue.float(round(matched_share(resumo), 6)),
            "piso_taxa_casamento": dg.MetadataValue.float(min_taxa_casamento),
            "taxa_divergencia": dg.MetadataValue.float(round(float(resumo["taxa_divergencia"]), 6)),
            "teto_taxa_divergencia": dg.MetadataValue.float(max_taxa_divergencia),
            "liberado_por_operador": bool(reasons) and released,
            **inputs_change,
            "severidade_alerta": "CRITICAL" if not passed else ("HIGH" if reasons else "OK"),
        },
    )


def compare_inputs(current: dict[str, Any], published: dict[str, Any] | None) -> dict[str, Any]:
    """Metadata saying whether this run's inputs differ from those of D's published run."""
    if not published:
        return {"entradas_iguais_a_publicada": "sem publicação anterior"}
    before = published.get("entradas") or {}
    changed = sorted(k for k in set(current) | set(before) if current.get(k) != before.get(k))
    return {
        "entradas_iguais_a_publicada": "sim" if not changed else "não",
        "entradas_alteradas": ", ".join(changed) or "-",
        "publicada_pelo_job": str(published.get("job_id", "-")),
    }


def operator_release(check: dg.AssetCheckResult) -> dict[str, Any] | None:
    """What the manifest records when an operator published a gated day deliberately."""
    flag = check.metadata.get("liberado_por_operador")
    if not getattr(flag, "value", flag):
        return None
    return {"tag": RELEASE_TAG, "motivos": check.description}
