"""The alerts' words: pure functions from facts (:mod:`sensors.alert_facts`) to an ``Alert``.

No instance, no I/O, no clock: everything a message says is in its facts and arguments, so each
builder is tested with hand-made facts (``tests/test_alert_messages.py``). Rendering (Slack
blocks, e-mail text, links, redaction) is the notifier's (:mod:`resources.notify`).

* a failed run -> :func:`failure_alert`, which picks one of :func:`gate_alert` (the plausibility
  gate held the publication), :func:`timeout_alert`, :func:`missing_file_alert`,
  :func:`rejected_file_alert` or :func:`run_failure_alert` (blocking checks, a step's error);
* a day published -> :func:`success_alert` (KPIs, :func:`breaks_line`, report and dashboard links);
* a failed non-blocking check -> :func:`check_alert`;
* the 20-minute SLA -> :func:`sla_alert` (warning at 18, breach at 20: :func:`sla_level`);
* an asset's freshness -> :func:`freshness_alert`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from reconciliation_assets.contract import (
    AUDIT_JOB_NAME,
    CATALOGO_GLUE,
    PLAUSIBILIDADE,
    PUBLICADA_NO_PRAZO,
    SAFETY_NET_ORIGIN,
    SLA_PUBLICACAO,
    TAXA_DIVERGENCIA,
)
from resources.notify import Alert
from resources.settings import Deadlines, ReconRules
from sensors.alert_facts import (
    CheckFacts,
    FailureFacts,
    FreshnessFacts,
    RunFacts,
    SlaFacts,
    SuccessFacts,
    first_line,
    local_time,
    metadata_value,
)

MISSING_FILE_MARKER = "Nenhum arquivo *.csv para"
REJECTED_MARKER = "Arquivo rejeitado"
FILE_STEP = "arquivos_fornecedor"
RUN_TIMEOUT_MARKER = "Exceeded maximum runtime"
MAX_FIELD_CHARS = 300
MAX_CHECK_FIELDS = 12

# ---- runbook sections (docs/runbook.md anchors; tests check that each one exists) -------------------
RUNBOOK_DAILY = "daily-monitoring"
RUNBOOK_FILE_MISSING = "file-missing"
RUNBOOK_FILE_REJECTED = "file-rejected"
RUNBOOK_TIMEOUT = "timeout-20-minutes"
RUNBOOK_FAILURE = "reconciliation-failure"
RUNBOOK_DELIVERY = "delivery-failure"
RUNBOOK_DIVERGENCE = "abnormal-divergence-rate"
RUNBOOK_GATES = "plausibility-gates"
RUNBOOK_RESUME = "resume-from-checkpoint"
RUNBOOK_CHECK = "failed-check"
RUNBOOK_LATE = "late-date"
RUNBOOK_CATALOG = "glue-catalog"
RUNBOOK_ANCHORS = (
    RUNBOOK_DAILY,
    RUNBOOK_FILE_MISSING,
    RUNBOOK_FILE_REJECTED,
    RUNBOOK_TIMEOUT,
    RUNBOOK_FAILURE,
    RUNBOOK_DELIVERY,
    RUNBOOK_DIVERGENCE,
    RUNBOOK_GATES,
    RUNBOOK_RESUME,
    RUNBOOK_CHECK,
    RUNBOOK_LATE,
    RUNBOOK_CATALOG,
)
GATE_CHECK = PLAUSIBILIDADE
CHECK_RUNBOOK = {
    GATE_CHECK: RUNBOOK_GATES,
    TAXA_DIVERGENCIA: RUNBOOK_DIVERGENCE,
    PUBLICADA_NO_PRAZO: RUNBOOK_LATE,
    SLA_PUBLICACAO: RUNBOOK_TIMEOUT,
    CATALOGO_GLUE: RUNBOOK_CATALOG,
}


# ---- small helpers ----------------------------------------------------------------------------------
def scalar_fields(metadata: dict[str, Any], limit: int = MAX_CHECK_FIELDS) -> dict[str, str]:
    """Check metadata as short ``key: value`` facts for a message (tables and JSON summarised)."""
    out: dict[str, str] = {}
    for key, raw in metadata.items():
        if key.startswith("dagster/") or key == "severidade_alerta":
            continue
        value = metadata_value(raw)
        if isinstance(value, bool):  # before the numbers: a bool is an int
            text = "sim" if value else "não"
        elif isinstance(value, float) and ("taxa" in key or key == "limite"):  # rates and their limits
            text = f"{value:.2%}"
        elif isinstance(value, float):
            text = f"{value:.6g}"
        elif isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False, default=str)
        else:
            text = str(value)
        if "\n" in text:  # markdown tables belong in the UI, not in a chat message
            continue
        out[key] = text[:MAX_FIELD_CHARS]
        if len(out) >= limit:
            break
    return out


def check_severity(check: CheckFacts) -> str:
    """The alert's severity: the check's own ``severidade_alerta``, else HIGH for ERROR, MEDIUM for WARN."""
    chosen = check.metadata.get("severidade_alerta")
    if chosen and chosen != "OK":
        return str(chosen)
    return "HIGH" if check.severity == dg.AssetCheckSeverity.ERROR.value else "MEDIUM"


# ---- a failed run -----------------------------------------------------------------------------------
def checkpoint_fields(checkpoint: dict[str, Any] | None) -> dict[str, str]:
    if not checkpoint:
        return {}
    out: dict[str, str] = {}
    if checkpoint.get("status"):
        out["Checkpoint status"] = str(checkpoint["status"])
    progress = checkpoint.get("progress") or {}
    if isinstance(progress, dict):
        if progress.get("total_lines") is not None:
            out["Linhas processadas"] = (
                f"{progress.get('processed_lines', 0)} de {progress['total_lines']}"
                f" (pendentes {progress.get('pending_lines', 0)})"
            )
        if progress.get("last_completed_unit"):
            out["Última unidade concluída"] = str(progress["last_completed_unit"])
    details = checkpoint.get("error_details")
    if isinstance(details, dict) and details.get("stage"):
        out["Etapa no checkpoint"] = str(details["stage"])
    if checkpoint.get("resume"):
        out["Retomar"] = str(checkpoint["resume"])[:MAX_FIELD_CHARS]
    return out


def gate_fields(check: CheckFacts) -> dict[str, str]:
    """Every scalar figure of the gate (observed and expected values, the operator release flag)."""
    skip = {"motivo", "detalhe"}
    return {
        f"{check.check_name}.{k}": v
        for k, v in scalar_fields(
            {k: v for k, v in check.metadata.items() if k not in skip}, limit=MAX_CHECK_FIELDS
        ).items()
    }


def blocking_checks(facts: FailureFacts) -> list[CheckFacts]:
    return [c for c in facts.failed_checks if c.blocking and c.severity == "ERROR"]


def gate_check(facts: FailureFacts) -> CheckFacts | None:
    """The plausibility gate, when it is among the run's failed blocking checks."""
    return next((c for c in blocking_checks(facts) if c.check_name == GATE_CHECK), None)


def is_timeout(facts: FailureFacts) -> bool:
    """The checkpoint says TIMEOUT, Dagster's ``max_runtime`` stopped the run, or a step's deadline hit."""
    status = str((facts.checkpoint or {}).get("status") or "").upper()
    return (
        status == "TIMEOUT"
        or RUN_TIMEOUT_MARKER in facts.run_failure_message
        or any(e.error_type == "DeadlineExceeded" for e in facts.step_errors)
    )


def is_missing_file(facts: FailureFacts) -> bool:
    return any(MISSING_FILE_MARKER in line for e in facts.step_errors for line in (e.message, *e.chain))


def is_rejected_file(facts: FailureFacts) -> bool:
    """User input error: the file itself was refused, so re-running the same file fails again."""
    for err in facts.step_errors:
        if any(line.startswith(REJECTED_MARKER) for line in err.chain) or err.message.startswith(
            REJECTED_MARKER
        ):
            return True
        if (
            err.step_key == FILE_STEP
            and err.user_failure
            and not any(MISSING_FILE_MARKER in line for line in err.chain)
        ):
            return True
    return False


def failure_fields(facts: FailureFacts) -> dict[str, Any]:
    """The facts every failure message lists: job, origin, failed step and error, other failed
    checks, attempt, and the checkpoint's status, progress and ``resume``."""
    tags = facts.run.tags
    blocking = blocking_checks(facts)
    other_failed = [
        f"{c.check_name} ({c.severity})"
        for c in facts.failed_checks
        if c not in blocking and c.metadata.get("publicada") is not False
    ]
    fields: dict[str, Any] = {"Job": facts.run.job_name}
    if facts.run.origin:
        fields["Origem"] = facts.run.origin
    if facts.step_errors:
        fields["Etapa com falha"] = ", ".join(sorted({e.step_key for e in facts.step_errors}))
        causes = [e.cause for e in facts.step_errors if e.error_type != "DagsterAssetCheckFailedError"]
        if causes:  # a blocking check's own "1 blocking asset check failed" says nothing the check does not
            fields["Erro"] = "; ".join(dict.fromkeys(causes))[:MAX_FIELD_CHARS]
    if other_failed:
        fields["Outras checagens com falha"] = ", ".join(other_failed)
    if tags.get("dagster/retry_number"):
        fields["Tentativa"] = str(int(tags["dagster/retry_number"]) + 1)
    fields.update(checkpoint_fields(facts.checkpoint))
    return fields


def _failure(facts: FailureFacts, fields: dict[str, Any], **what: Any) -> Alert:
    """An Alert about the failed run: its date, id, times, checkpoint and dedup key, plus ``what``."""
    return Alert(
        data_referencia=facts.run.day,
        job_id=facts.run.run_id,
        inicio=facts.run.start,
        fim=facts.run.end,
        campos=fields,
        checkpoint_location=(facts.checkpoint or {}).get("checkpoint_location") or None,
        chave=f"falha:{facts.run.run_id}",
        **what,
    )


def _step_causes(facts: FailureFacts) -> str:
    return "; ".join(f"{e.step_key}: {e.cause}" for e in facts.step_errors)


def gate_alert(facts: FailureFacts, gate: CheckFacts) -> Alert:
    """The plausibility gate held the day: its reasons with their figures; nothing was published."""
    # The gate's description carries every reason with its figures ("dia retido, nada publicado:
    # ESCOPO_INTERNO_VAZIO: o arquivo tem 5 linhas válidas e …"); ``motivo`` holds the codes.
    fields = failure_fields(facts)
    detail = gate.description or str(gate.metadata.get("detalhe") or "")
    codes = str(gate.metadata.get("motivo") or "")
    if codes and codes != "-":
        fields["Portão"] = codes
    fields.update(gate_fields(gate))
    return _failure(
        facts,
        fields,
        tipo="plausibilidade",
        severidade=str(gate.metadata.get("severidade_alerta") or "CRITICAL"),
        titulo=f"Publicação de {facts.run.day} retida pelo portão de plausibilidade",
        motivo=f"{detail or codes or 'portão de plausibilidade reprovado'}. A saída anterior da data permanece.",
        proximo_passo=(
            "Confira a origem dos dados (arquivo e base interna) antes de publicar; se o dia é real, "
            "publique deliberadamente com a tag recon/publicar_mesmo_assim=true (fica no manifesto)."
        ),
        runbook=RUNBOOK_GATES,
    )


def timeout_alert(facts: FailureFacts) -> Alert:
    """The run passed its limit (``dagster/max_runtime``, 20 min by default): resume from the checkpoint."""
    checkpoint = facts.checkpoint or {}
    limit_s = int(facts.run.tags.get(dg.MAX_RUNTIME_SECONDS_TAG) or 1200)
    reason = (
        first_line(
            (checkpoint.get("error_details") or {}).get("message")
            if isinstance(checkpoint.get("error_details"), dict)
            else None
        )
        or first_line(facts.run_failure_message)
        or f"a execução passou de {limit_s // 60} min"
    )
    return _failure(
        facts,
        failure_fields(facts),
        tipo="tempo_esgotado",
        severidade="CRITICAL",
        titulo=f"Conciliação de {facts.run.day} excedeu o prazo de {limit_s // 60} minutos",
        motivo=reason,
        proximo_passo=(
            "Re-execute a partir da falha (From failure): o checkpoint guarda o que já foi feito e a "
            "retomada não refaz o trabalho concluído."
        ),
        runbook=RUNBOOK_TIMEOUT,
    )


def missing_file_alert(facts: FailureFacts) -> Alert:
    """No supplier file for the date (by the deadline, when the safety net started the run)."""
    day = facts.run.day
    fields = failure_fields(facts)
    fields.pop("Retomar", None)  # nothing to resume: the file is what must change
    when = "até o prazo" if facts.run.origin == SAFETY_NET_ORIGIN else "para a data"
    return _failure(
        facts,
        fields,
        tipo="arquivo_ausente",
        severidade="CRITICAL",
        titulo=f"Arquivo do fornecedor ausente para {day} ({when})",
        motivo=_step_causes(facts),
        proximo_passo=(
            f"Cobre o arquivo do fornecedor e deposite-o em <ingress>/{day}/; o sensor de ingresso "
            "inicia a execução (ou materialize a partição na UI)."
        ),
        runbook=RUNBOOK_FILE_MISSING,
    )


def rejected_file_alert(facts: FailureFacts) -> Alert:
    """The supplier's file was refused: ask for a corrected file, do not re-execute."""
    day = facts.run.day
    fields = failure_fields(facts)
    fields.pop("Retomar", None)  # nothing to resume: the file is what must change
    return _failure(
        facts,
        fields,
        tipo="arquivo_rejeitado",
        severidade="CRITICAL",
        titulo=f"Arquivo do fornecedor rejeitado para {day}",
        motivo=_step_causes(facts),
        proximo_passo=(
            f"Não re-execute: o mesmo arquivo será rejeitado de novo. Peça ao fornecedor o arquivo "
            f"corrigido e deposite-o em <ingress>/{day}/ (substituindo o rejeitado); o sensor de "
            "ingresso inicia uma nova execução."
        ),
        runbook=RUNBOOK_FILE_REJECTED,
    )


def run_failure_alert(facts: FailureFacts) -> Alert:
    """Any other failure: the blocking checks with their metadata, else the steps' real errors."""
    fields = failure_fields(facts)
    blocking = blocking_checks(facts)
    if blocking:
        reason = "; ".join(
            f"checagem bloqueante {c.check_name} ({c.asset}) falhou"
            + (f": {c.description}" if c.description else "")
            for c in blocking
        )
        reason += ". Publicação suspensa; a saída anterior da data permanece."
        for c in blocking[:2]:
            for k, v in scalar_fields(c.metadata, limit=6).items():
                fields[f"{c.check_name}.{k}"] = v
        step = "Investigue a checagem na UI, corrija a origem dos dados e re-execute a partição."
    elif facts.step_errors:
        reason = _step_causes(facts)
        step = "Re-execute a partir da falha (From failure) na UI; o checkpoint lista as etapas concluídas."
    else:
        reason = first_line(facts.run_failure_message) or "a execução falhou (veja os logs da execução)"
        step = "Veja os logs da execução e re-execute a partição."
    day = facts.run.day
    return _failure(
        facts,
        fields,
        tipo="falha_execucao",
        severidade="CRITICAL",
        titulo=f"Falha na conciliação de {day}" if day else f"Falha na execução {facts.run.job_name}",
        motivo=reason,
        proximo_passo=step,
        runbook=RUNBOOK_FAILURE,
    )


def audit_failure_alert(facts: FailureFacts) -> Alert:
    """The GE audit run of a published date failed: D stays published (its contract was checked on
    every row before), only the after-the-fact audit is missing."""
    day = facts.run.day
    return _failure(
        facts,
        failure_fields(facts),
        tipo="falha_auditoria",
        severidade="HIGH",
        titulo=f"Auditoria Great Expectations de {day} não rodou",
        motivo=(_step_causes(facts) if facts.step_errors else first_line(facts.run_failure_message))
        + ". A data continua publicada: o contrato foi verificado em todas as linhas antes da publicação.",
        proximo_passo=(
            f"Corrija a causa e execute de novo o job {AUDIT_JOB_NAME} com a tag dagster/partition={day}."
        ),
        runbook=RUNBOOK_CHECK,
    )


def failure_alert(facts: FailureFacts) -> Alert:
    """The one message of a failed run, titled by what happened (first match wins)."""
    if facts.run.job_name == AUDIT_JOB_NAME:
        return audit_failure_alert(facts)
    gate = gate_check(facts)
    if gate is not None:
        return gate_alert(facts, gate)
    if is_timeout(facts):
        return timeout_alert(facts)
    if is_missing_file(facts):
        return missing_file_alert(facts)
    if is_rejected_file(facts):
        return rejected_file_alert(facts)
    return run_failure_alert(facts)


# ---- a day published --------------------------------------------------------------------------------
def breaks_line(breaks: dict[str, Any]) -> str:
    """'12 novas, 340 em aberto há mais de 7 dias, …' from the pendencias materialization."""
    amount = (
        f"{float(breaks.get('valor_em_aberto', 0)):,.2f}".replace(",", "X")
        .replace(".", ",")
        .replace("X", ".")
    )
    return (
        f"{int(breaks.get('novas', 0))} novas, {int(breaks.get('recorrentes', 0))} recorrentes, "
        f"{int(breaks.get('abertas', 0))} em aberto ({int(breaks.get('abertas_mais_7_dias', 0))} há mais de 7 dias), "
        f"{int(breaks.get('resolvidas', 0))} resolvidas; R$ {amount} em aberto"
    )


def success_alert(facts: SuccessFacts) -> Alert:
    """The day's KPIs from the summary's metadata; MEDIUM "(com alertas)" when a check failed."""
    summary = facts.summary
    breaks = facts.breaks
    sla = None
    for check in facts.checks:  # the last sla_publicacao evaluation of the run
        if check.check_name == SLA_PUBLICACAO:
            sla = check.metadata
    failed_checks = [f"{c.check_name} ({c.severity})" for c in facts.checks if not c.passed]
    day = facts.run.day

    def num(key: str, default: Any = 0) -> Any:
        return summary.get(key, default)

    divergences = sum(
        int(num(k))
        for k in (
            "tipo_1",
            "tipo_2",
            "tipo_3_valor",
            "tipo_3_data",
            "tipo_3_fornecedor",
            "tipo_3_ativo",
            "tipo_3_nome",
        )
    )
    linhas_csv = int(num("linhas_csv"))
    quarantine_rate = int(num("linhas_quarentena")) / linhas_csv if linhas_csv else 0.0
    kpis: dict[str, Any] = {
        "Linhas do arquivo": f"{linhas_csv:,}".replace(",", "."),
        "Validadas": f"{int(num('linhas_validas')):,}".replace(",", "."),
        "Quarentena": f"{int(num('linhas_quarentena')):,} ({quarantine_rate:.2%})".replace(",", "."),
        "Divergências": f"{divergences:,}".replace(",", "."),
        "TIPO_1 / TIPO_2 / TIPO_3_*": f"{int(num('tipo_1'))} / {int(num('tipo_2'))} / "
        f"{divergences - int(num('tipo_1')) - int(num('tipo_2'))}",
        "Taxa de divergência": f"{float(num('taxa_divergencia')):.2%}",
        "Conciliadas sem divergência": f"{int(num('conciliadas_sem_divergencia')):,}".replace(",", "."),
        "Diferença não explicada": f"{float(num('diferenca_nao_explicada')):.2f}",
        "SLA cumprido": "sim" if summary.get("sla_cumprido") else "não",
    }
    if breaks:
        kpis["Pendências"] = breaks_line(breaks)
        if breaks.get("datas_posteriores_desatualizadas", "-") != "-":
            kpis["Datas posteriores desatualizadas"] = (
                f"{breaks['datas_posteriores_desatualizadas']} (re-execute em ordem)"
            )
    if sla and sla.get("minutos_ate_publicacao") is not None:
        kpis["Chegada → publicação"] = f"{float(sla['minutos_ate_publicacao']):.1f} min"
    if facts.run.origin:
        kpis["Origem"] = facts.run.origin
    if failed_checks:
        kpis["Checagens com falha"] = ", ".join(failed_checks)
    healthy = not failed_checks
    return Alert(
        tipo="sucesso",
        severidade="INFO" if healthy else "MEDIUM",
        titulo=f"Conciliação de {day} publicada" + ("" if healthy else " (com alertas)"),
        motivo="Todas as checagens passaram." if healthy else "Publicada; veja as checagens com falha.",
        data_referencia=day,
        job_id=facts.run.run_id,
        inicio=facts.run.start,
        fim=facts.run.end,
        campos=kpis,
        checkpoint=False,
        chave=f"sucesso:{facts.run.run_id}",
        runbook=RUNBOOK_DAILY,
        relatorio=facts.report,
        painel=True,
    )


# ---- a failed non-blocking check --------------------------------------------------------------------
def check_alert(check: CheckFacts, run: RunFacts) -> Alert:
    """A check that failed in a run that succeeded: its description (or ``motivo``) and metadata."""
    day = check.partition
    asset = check.asset
    return Alert(
        tipo="checagem",
        severidade=check_severity(check),
        titulo=f"Checagem {check.check_name} falhou em {asset}" + (f" ({day})" if day else ""),
        motivo=str(check.metadata.get("motivo") or check.description or "")
        or "a checagem não passou (veja os metadados)",
        data_referencia=day,
        job_id=run.run_id,
        inicio=run.start,
        fim=run.end,
        campos={
            "Checagem": f"{asset}/{check.check_name}",
            "Resultado": f"falhou ({check.severity})",
            **scalar_fields(dict(check.metadata)),
        },
        proximo_passo="Abra a checagem na UI (aba Checks do ativo) para os detalhes e exemplos.",
        runbook=CHECK_RUNBOOK.get(check.check_name, RUNBOOK_CHECK),
        # "D missed its deadline" is a fact about the date: re-running D does not repeat it.
        chave=(
            f"checagem:{asset}:{check.check_name}:{day}"
            if check.check_name == PUBLICADA_NO_PRAZO
            else f"checagem:{run.run_id}:{asset}:{check.check_name}:{day}"
        ),
    )


# ---- the SLA ---------------------------------------------------------------------------------------
def sla_level(minutes: float, rules: ReconRules) -> str | None:
    """``estouro`` past the limit (20 min), ``aviso`` past the warning (18 min), else None."""
    if minutes > rules.sla_minutes:
        return "estouro"
    if minutes > rules.sla_warn_minutes:
        return "aviso"
    return None


def sla_check_level(check: CheckFacts) -> str:
    """The ``sla_publicacao`` check's verdict (its ``nivel``) as an alert level."""
    return "estouro" if check.metadata.get("nivel") == "estouro" else "aviso"


def sla_alert(facts: SlaFacts, level: str, rules: ReconRules) -> Alert:
    """HIGH "SLA em risco" (``aviso``) or CRITICAL "SLA estourado" (``estouro``), once per file arrival."""
    day = facts.run.day
    minutes = facts.minutes
    breach = level == "estouro"
    if facts.published:
        what = f"divergências de {day} publicadas {minutes:.1f} min após a chegada do arquivo"
    else:
        what = f"divergências de {day} ainda não publicadas, {minutes:.1f} min após a chegada do arquivo"
    return Alert(
        tipo="sla",
        severidade="CRITICAL" if breach else "HIGH",
        titulo=(f"SLA estourado em {day}" if breach else f"SLA em risco em {day}"),
        motivo=f"{what} (aviso {rules.sla_warn_minutes} min, limite {rules.sla_minutes} min).",
        data_referencia=day,
        job_id=facts.run.run_id,
        inicio=facts.run.start,
        fim=facts.run.end,
        campos={
            "Arquivo chegou em": local_time(facts.arrival.timestamp()),
            "Prazo do SLA": local_time(facts.arrival.timestamp() + rules.sla_minutes * 60),
            "Minutos desde a chegada": f"{minutes:.1f}",
            "Publicada": "sim" if facts.published else "não",
        },
        proximo_passo=(
            "Acompanhe a execução; se travada, cancele e re-execute a partir da falha."
            if not facts.published
            else "Registre o atraso; verifique volume do arquivo e a base interna (pool base_interna)."
        ),
        runbook=RUNBOOK_TIMEOUT,
        # Keyed by the file's arrival, not the run: a re-run of a late day does not page again, and
        # the in-progress warning and the check's verdict on the same arrival are one alert.
        chave=f"sla:{day}:{int(facts.arrival.timestamp())}:{level}",
    )


# ---- freshness ---------------------------------------------------------------------------------------
def freshness_alert(facts: FreshnessFacts, deadlines: Deadlines) -> Alert:
    """An asset late by its daily deadline (or back in time): which date, and the last materialization."""
    asset = facts.asset
    which = "arquivo" if asset == "arquivos_fornecedor" else "divergencias"
    hhmm = deadlines.file_deadline if which == "arquivo" else deadlines.divergences_deadline
    changed_at = datetime.fromtimestamp(facts.changed_at, tz=UTC)
    local = changed_at.astimezone(ZoneInfo(deadlines.timezone))
    # The reference date whose deadline was the last one missed before the change.
    today_ref = deadlines.reference_date_due_at(local)
    day = today_ref if local >= deadlines.deadline(today_ref, which) else today_ref - timedelta(days=1)
    latest = facts.latest
    fields: dict[str, Any] = {
        "Ativo": asset,
        "Estado": f"{facts.previous_state} → {facts.new_state}",
        "Prazo diário": f"{hhmm} {deadlines.timezone} (D+{deadlines.days_after})",
        "Mudou em": local.isoformat(timespec="seconds"),
    }
    if latest:
        fields["Última materialização"] = f"{local_time(latest.timestamp)}" + (
            f" (partição {latest.partition})" if latest.partition else ""
        )
    else:
        fields["Última materialização"] = "nenhuma"
    key = f"frescor:{asset}:{facts.new_state}:{int(facts.changed_at)}"
    if facts.recovered:
        return Alert(
            tipo="frescor",
            severidade="INFO",
            titulo=f"{asset} voltou a ficar em dia",
            motivo=f"{asset} foi materializado e a política de frescor voltou a PASS.",
            data_referencia=day.isoformat(),
            job_id=latest.run_id if latest else None,
            campos=fields,
            checkpoint=False,
            chave=key,
            runbook=RUNBOOK_DAILY,
        )
    return Alert(
        tipo="frescor",
        # A late file is HIGH (the safety-net schedule acts at the same deadline and a missing file
        # becomes its own CRITICAL alert); late divergences are the broken promise: CRITICAL.
        severidade="CRITICAL" if which == "divergencias" and facts.new_state == "FAIL" else "HIGH",
        titulo=(
            f"{asset} atrasado: arquivo de {day.isoformat()} não processado até {hhmm}"
            if which == "arquivo"
            else f"{asset} atrasado: {day.isoformat()} não publicado até {hhmm}"
        ),
        motivo=(
            f"A política de frescor de {asset} está {facts.new_state}: nenhuma materialização na "
            f"janela de 24 h até o prazo {hhmm} ({deadlines.timezone})."
        ),
        data_referencia=day.isoformat(),
        job_id=latest.run_id if latest else None,
        campos=fields,
        proximo_passo=(
            f"Verifique se o arquivo de {day.isoformat()} chegou e se há execução em andamento; "
            "a rede de segurança inicia a execução no prazo do arquivo."
        ),
        checkpoint=False,
        chave=key,
        runbook=RUNBOOK_FILE_MISSING if which == "arquivo" else RUNBOOK_LATE,
    )
