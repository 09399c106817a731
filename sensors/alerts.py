"""Alert sensors: a failed run, a failed check, the SLA, a stale asset, and the healthy day.

Each incident is sent once. Run-scoped alerts (failure, success) are marked on the run itself with a
``recon/alerta_*`` tag, so even a reset sensor cursor cannot resend them; the cursor-based sensors
(checks, SLA, freshness) keep a storage-id high-water mark and the keys they sent (bounded) in
their cursor; an alert a channel did not accept stays in the cursor and is retried on later ticks
(``AlertCursor.retry_pending``). Every alert links to its ``docs/runbook.md`` section. Who reports what, so one incident is one message:

* a run that fails (blocking check and the ``plausibilidade`` gate included) ->
  ``alerta_falha_execucao``; a missing or rejected file, a timeout and a held publication are the
  same alert, titled as such; runs about to be retried are skipped (``dagster/will_retry``). It and
  ``alerta_dia_conciliado`` read run *records* (not run-status events), so CLI-started runs, which
  carry no code-location origin, alert too;
* a failed non-blocking check in a run that succeeded -> ``alerta_checagens`` (the SLA check goes
  to ``alerta_sla``); in a failed run, every failed check is listed in the run's failure alert;
* a run past 18/20 minutes since the file arrived, or the SLA check failing -> ``alerta_sla``;
* an asset entering FAIL/WARN freshness (and its recovery) -> ``alerta_frescor``;
* a successful day with its KPIs, the link to its daily report (``relatorio_diario``) and, with
  ``RECON_PAINEL_URL`` set, to the dashboard's view of the date -> ``alerta_dia_conciliado``.

Backfills are deliberate work on the past: their successes and their SLA/deadline checks do not
page anyone (failures still do).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from reconciliation_assets.contract import (
    ARRIVAL_TAG,
    BACKFILL_TAG,
    CATALOGO_GLUE,
    FAILURE_SENT_TAG,
    IN_PROGRESS_STATUSES,
    JOB_NAME,
    ORIGIN_TAG,
    PARTITION_TAG,
    PLAUSIBILIDADE,
    PUBLICADA_NO_PRAZO,
    SAFETY_NET_ORIGIN,
    SLA_PUBLICACAO,
    SUCCESS_SENT_TAG,
    TAXA_DIVERGENCIA,
    TIMEZONE,
    WILL_RETRY_TAG,
)
from resources.notify import Alert, Notifier
from resources.settings import Deadlines, ReconRules
from resources.storage import ReconStorage
from sensors.events import AlertCursor, event_records_after, finished_runs_after, run_events

MISSING_FILE_MARKER = "Nenhum arquivo *.csv para"
IN_PROGRESS = [dg.DagsterRunStatus(status) for status in IN_PROGRESS_STATUSES]
BACKFILL_QUIET_CHECKS = {SLA_PUBLICACAO, PUBLICADA_NO_PRAZO}
MAX_FIELD_CHARS = 300
MAX_CHECK_FIELDS = 12


# ---- small helpers ----------------------------------------------------------------------------------
def local_time(timestamp: float | None) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, tz=ZoneInfo(TIMEZONE)).isoformat(timespec="seconds")


def _now_iso() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="seconds")


def _first_line(text: str | None) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    # "dagster._core.definitions.events.Failure: msg" -> "msg"
    head, sep, rest = line.partition(": ")
    return rest if sep and "." in head and " " not in head else line


def _metadata_value(value: Any) -> Any:
    return getattr(value, "value", value)


def _scalar_fields(metadata: dict[str, Any], limit: int = MAX_CHECK_FIELDS) -> dict[str, str]:
    """Check metadata as short ``key: value`` facts for a message (tables and JSON summarised)."""
    out: dict[str, str] = {}
    for key, raw in metadata.items():
        if key.startswith("dagster/") or key == "severidade_alerta":
            continue
        value = _metadata_value(raw)
        if isinstance(value, float):
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


def _run_times(instance: dg.DagsterInstance, run_id: str) -> tuple[str | None, str | None]:
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return None, None
    return local_time(record.start_time or record.create_timestamp.timestamp()), local_time(record.end_time)


def _check_severity(evaluation: Any) -> str:
    chosen = _metadata_value(evaluation.metadata.get("severidade_alerta"))
    if chosen and chosen != "OK":
        return str(chosen)
    return "HIGH" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "MEDIUM"


def about_to_retry(run: dg.DagsterRun, instance: dg.DagsterInstance) -> bool:
    """True when Dagster will launch another attempt of this failed run (alert the last one only)."""
    tag = run.tags.get(WILL_RETRY_TAG)
    if tag is not None:
        return tag.lower() == "true"
    if not instance.run_retries_enabled:
        return False
    try:  # older runs carry no tag: ask the same function the retry daemon uses
        from dagster._daemon.auto_run_reexecution.auto_run_reexecution import should_retry

        return bool(should_retry(run, instance))
    except Exception:  # pragma: no cover - internal API moved: alert rather than stay silent
        return False


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
REJECTED_MARKER = "Arquivo rejeitado"
FILE_STEP = "arquivos_fornecedor"
RUN_TIMEOUT_MARKER = "Exceeded maximum runtime"
# Dagster's own wrappers around the error that really happened (a retried step ends in
# "RetryRequested: Exceeded max_retries of 3", whose cause chain holds the real error).
WRAPPER_ERRORS = {
    None,
    "RetryRequested",
    "DagsterExecutionStepExecutionError",
    "DagsterUserCodeExecutionError",
    "DagsterMaxRetriesExceededError",
    "DagsterExecutionInterruptedError",
}


# ---- facts about a failed run (read from the instance), then a pure builder ----------------------------
@dataclass(frozen=True)
class StepError:
    step_key: str
    error_type: str  # the root cause's class, e.g. InternalBaseError
    message: str  # the root cause's first line
    chain: tuple[str, ...]  # every message of the chain, outermost first (first lines)
    user_failure: bool  # raised as dg.Failure (a deliberate, descriptive failure)

    @property
    def cause(self) -> str:
        return f"{self.error_type}: {self.message}" if self.error_type else self.message


@dataclass(frozen=True)
class CheckFacts:
    check_name: str
    asset: str
    description: str
    severity: str  # ERROR | WARN
    blocking: bool
    metadata: dict[str, Any]


@dataclass(frozen=True)
class FailureFacts:
    """Everything a failure alert says, gathered from the run, its event log and its checkpoint."""

    run_id: str
    job_name: str
    tags: dict[str, str]
    start: str | None = None
    end: str | None = None
    run_failure_message: str = ""
    step_errors: tuple[StepError, ...] = ()
    failed_checks: tuple[CheckFacts, ...] = ()
    checkpoint: dict[str, Any] | None = None


def root_cause(error: Any) -> tuple[str, str, tuple[str, ...]]:
    """(type, first line, chain of first lines) of a SerializableErrorInfo's real error.

    Follows ``cause`` (``raise … from …``) to the deepest error; an implicit ``context`` is only
    followed out of Dagster's own wrappers, so a user's translated error stays the cause.
    """
    chain: list[Any] = []
    current = error
    while current is not None and len(chain) < 20:
        chain.append(current)
        nxt = current.cause
        if nxt is None and current.cls_name in WRAPPER_ERRORS:
            nxt = current.context
        current = nxt
    lines = tuple(_first_line(e.message) for e in chain)
    real = [e for e in chain if e.cls_name not in WRAPPER_ERRORS]
    root = real[-1] if real else chain[-1]
    return root.cls_name or "", _first_line(root.message), lines


def step_error_of(step_key: str, data: Any) -> StepError:
    if data.error is None:
        return StepError(step_key, "", "", (), data.user_failure_data is not None)
    kind, line, chain = root_cause(data.error)
    return StepError(step_key, kind, line, chain, data.user_failure_data is not None)


def read_failure_facts(
    instance: dg.DagsterInstance, run: dg.DagsterRun, checkpoint: dict[str, Any] | None
) -> FailureFacts:
    events = run_events(
        instance,
        run.run_id,
        dg.DagsterEventType.STEP_FAILURE,
        dg.DagsterEventType.ASSET_CHECK_EVALUATION,
        dg.DagsterEventType.RUN_FAILURE,
    )
    steps, checks, run_message = [], [], ""
    for e in events:
        if e.event_type == dg.DagsterEventType.STEP_FAILURE:
            steps.append(step_error_of(e.step_key, e.event_specific_data))
        elif e.event_type == dg.DagsterEventType.RUN_FAILURE:
            run_message = e.message or run_message
        elif not e.event_specific_data.passed:
            ev = e.event_specific_data
            checks.append(
                CheckFacts(
                    check_name=ev.check_name,
                    asset=ev.asset_key.to_user_string(),
                    description=ev.description or "",
                    severity=ev.severity.value,
                    blocking=bool(ev.blocking),
                    metadata={k: _metadata_value(v) for k, v in ev.metadata.items()},
                )
            )
    start, end = _run_times(instance, run.run_id)
    return FailureFacts(
        run_id=run.run_id,
        job_name=run.job_name,
        tags=dict(run.tags),
        start=start,
        end=end,
        run_failure_message=run_message,
        step_errors=tuple(steps),
        failed_checks=tuple(checks),
        checkpoint=checkpoint,
    )


def read_checkpoint(storage: Any, run: dg.DagsterRun) -> dict[str, Any] | None:
    """The run's ``checkpoint.json`` (its own folder, else the root run's); None when absent/unreadable."""
    from reconciliation_assets.checkpoint import checkpoint_location

    for job_id in dict.fromkeys([run.run_id, run.tags.get("dagster/root_run_id") or run.run_id]):
        try:
            doc = storage.read_json(checkpoint_location(storage.checkpoint_uri, job_id))
        except Exception:  # unreadable (S3 down, half-written): the alert goes out without it
            doc = None
        if isinstance(doc, dict):
            return doc
    return None


def _checkpoint_fields(checkpoint: dict[str, Any] | None) -> dict[str, str]:
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


def _gate_fields(check: CheckFacts) -> dict[str, str]:
    """Every scalar figure of the gate (observed and expected values, the operator release flag)."""
    skip = {"motivo", "detalhe"}
    return {
        f"{check.check_name}.{k}": v
        for k, v in _scalar_fields(
            {k: v for k, v in check.metadata.items() if k not in skip}, limit=MAX_CHECK_FIELDS
        ).items()
    }


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


def failure_alert(facts: FailureFacts) -> Alert:
    """The one message of a failed run (pure: facts in, Alert out)."""
    tags = facts.tags
    day = tags.get(PARTITION_TAG)
    blocking = [c for c in facts.failed_checks if c.blocking and c.severity == "ERROR"]
    other_failed = [
        f"{c.check_name} ({c.severity})"
        for c in facts.failed_checks
        if c not in blocking and c.metadata.get("publicada") is not False
    ]
    checkpoint = facts.checkpoint or {}
    status = str(checkpoint.get("status") or "").upper()
    location = checkpoint.get("checkpoint_location") or None
    fields: dict[str, Any] = {"Job": facts.job_name}
    if tags.get(ORIGIN_TAG):
        fields["Origem"] = tags[ORIGIN_TAG]
    if facts.step_errors:
        fields["Etapa com falha"] = ", ".join(sorted({e.step_key for e in facts.step_errors}))
        causes = [e.cause for e in facts.step_errors if e.error_type != "DagsterAssetCheckFailedError"]
        if causes:  # a blocking check's own "1 blocking asset check failed" says nothing the check does not
            fields["Erro"] = "; ".join(dict.fromkeys(causes))[:MAX_FIELD_CHARS]
    if other_failed:
        fields["Outras checagens com falha"] = ", ".join(other_failed)
    if tags.get("dagster/retry_number"):
        fields["Tentativa"] = str(int(tags["dagster/retry_number"]) + 1)
    fields.update(_checkpoint_fields(facts.checkpoint))
    common: dict[str, Any] = {
        "data_referencia": day,
        "job_id": facts.run_id,
        "inicio": facts.start,
        "fim": facts.end,
        "campos": fields,
        "checkpoint_location": location,
        "chave": f"falha:{facts.run_id}",
    }
    gate = next((c for c in blocking if c.check_name == GATE_CHECK), None)
    timed_out = (
        status == "TIMEOUT"
        or RUN_TIMEOUT_MARKER in facts.run_failure_message
        or any(e.error_type == "DeadlineExceeded" for e in facts.step_errors)
    )
    if gate is not None:
        # The gate's description carries every reason with its figures ("dia retido, nada publicado:
        # ESCOPO_INTERNO_VAZIO: o arquivo tem 5 linhas válidas e …"); ``motivo`` holds the codes.
        detail = gate.description or str(gate.metadata.get("detalhe") or "")
        codes = str(gate.metadata.get("motivo") or "")
        if codes and codes != "-":
            fields["Portão"] = codes
        fields.update(_gate_fields(gate))
        return Alert(
            tipo="plausibilidade",
            severidade=str(gate.metadata.get("severidade_alerta") or "CRITICAL"),
            titulo=f"Publicação de {day} retida pelo portão de plausibilidade",
            motivo=f"{detail or codes or 'portão de plausibilidade reprovado'}. A saída anterior da data permanece.",
            proximo_passo=(
                "Confira a origem dos dados (arquivo e base interna) antes de publicar; se o dia é real, "
                "publique deliberadamente com a tag recon/publicar_mesmo_assim=true (fica no manifesto)."
            ),
            runbook=RUNBOOK_GATES,
            **common,
        )
    if timed_out:
        limit_s = int(tags.get(dg.MAX_RUNTIME_SECONDS_TAG) or 1200)
        reason = (
            _first_line(
                (checkpoint.get("error_details") or {}).get("message")
                if isinstance(checkpoint.get("error_details"), dict)
                else None
            )
            or _first_line(facts.run_failure_message)
            or f"a execução passou de {limit_s // 60} min"
        )
        return Alert(
            tipo="tempo_esgotado",
            severidade="CRITICAL",
            titulo=f"Conciliação de {day} excedeu o prazo de {limit_s // 60} minutos",
            motivo=reason,
            proximo_passo=(
                "Re-execute a partir da falha (From failure): o checkpoint guarda o que já foi feito e a "
                "retomada não refaz o trabalho concluído."
            ),
            runbook=RUNBOOK_TIMEOUT,
            **common,
        )
    if is_rejected_file(facts) or any(
        MISSING_FILE_MARKER in line for e in facts.step_errors for line in (e.message, *e.chain)
    ):
        fields.pop("Retomar", None)  # nothing to resume: the file is what must change
    missing = any(MISSING_FILE_MARKER in line for e in facts.step_errors for line in (e.message, *e.chain))
    if missing:
        when = "até o prazo" if tags.get(ORIGIN_TAG) == SAFETY_NET_ORIGIN else "para a data"
        return Alert(
            tipo="arquivo_ausente",
            severidade="CRITICAL",
            titulo=f"Arquivo do fornecedor ausente para {day} ({when})",
            motivo="; ".join(f"{e.step_key}: {e.cause}" for e in facts.step_errors),
            proximo_passo=(
                f"Cobre o arquivo do fornecedor e deposite-o em <ingress>/{day}/; o sensor de ingresso "
                "inicia a execução (ou materialize a partição na UI)."
            ),
            runbook=RUNBOOK_FILE_MISSING,
            **common,
        )
    if is_rejected_file(facts):
        return Alert(
            tipo="arquivo_rejeitado",
            severidade="CRITICAL",
            titulo=f"Arquivo do fornecedor rejeitado para {day}",
            motivo="; ".join(f"{e.step_key}: {e.cause}" for e in facts.step_errors),
            proximo_passo=(
                f"Não re-execute: o mesmo arquivo será rejeitado de novo. Peça ao fornecedor o arquivo "
                f"corrigido e deposite-o em <ingress>/{day}/ (substituindo o rejeitado); o sensor de "
                "ingresso inicia uma nova execução."
            ),
            runbook=RUNBOOK_FILE_REJECTED,
            **common,
        )
    if blocking:
        reason = "; ".join(
            f"checagem bloqueante {c.check_name} ({c.asset}) falhou"
            + (f": {c.description}" if c.description else "")
            for c in blocking
        )
        reason += ". Publicação suspensa; a saída anterior da data permanece."
        for c in blocking[:2]:
            for k, v in _scalar_fields(c.metadata, limit=6).items():
                fields[f"{c.check_name}.{k}"] = v
        step = "Investigue a checagem na UI, corrija a origem dos dados e re-execute a partição."
    elif facts.step_errors:
        reason = "; ".join(f"{e.step_key}: {e.cause}" for e in facts.step_errors)
        step = "Re-execute a partir da falha (From failure) na UI; o checkpoint lista as etapas concluídas."
    else:
        reason = _first_line(facts.run_failure_message) or "a execução falhou (veja os logs da execução)"
        step = "Veja os logs da execução e re-execute a partição."
    return Alert(
        tipo="falha_execucao",
        severidade="CRITICAL",
        titulo=f"Falha na conciliação de {day}" if day else f"Falha na execução {facts.job_name}",
        motivo=reason,
        proximo_passo=step,
        runbook=RUNBOOK_FAILURE,
        **common,
    )


def success_alert(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Alert | None:
    """The day's KPIs from the summary's materialization; None when the run did not publish a day."""
    events = run_events(
        instance,
        run.run_id,
        dg.DagsterEventType.ASSET_MATERIALIZATION,
        dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    )
    summary = None
    breaks = None
    report = None
    failed_checks = []
    sla = None
    for e in events:
        if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = e.event_specific_data.materialization
            if mat.asset_key == dg.AssetKey("resumo_conciliacao"):
                summary = {k: _metadata_value(v) for k, v in mat.metadata.items()}
            elif mat.asset_key == dg.AssetKey("pendencias"):
                breaks = {k: _metadata_value(v) for k, v in mat.metadata.items()}
            elif mat.asset_key == dg.AssetKey("relatorio_diario"):
                report = _metadata_value(mat.metadata.get("dagster/uri"))
        elif e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            ev = e.event_specific_data
            if ev.check_name == SLA_PUBLICACAO:
                sla = {k: _metadata_value(v) for k, v in ev.metadata.items()}
            if not ev.passed:
                failed_checks.append(f"{ev.check_name} ({ev.severity.value})")
    if summary is None:
        return None
    day = run.tags.get(PARTITION_TAG)
    start, end = _run_times(instance, run.run_id)

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
    if run.tags.get(ORIGIN_TAG):
        kpis["Origem"] = run.tags[ORIGIN_TAG]
    if failed_checks:
        kpis["Checagens com falha"] = ", ".join(failed_checks)
    healthy = not failed_checks
    return Alert(
        tipo="sucesso",
        severidade="INFO" if healthy else "MEDIUM",
        titulo=f"Conciliação de {day} publicada" + ("" if healthy else " (com alertas)"),
        motivo="Todas as checagens passaram." if healthy else "Publicada; veja as checagens com falha.",
        data_referencia=day,
        job_id=run.run_id,
        inicio=start,
        fim=end,
        campos=kpis,
        checkpoint=False,
        chave=f"sucesso:{run.run_id}",
        runbook=RUNBOOK_DAILY,
        relatorio=str(report) if report else None,
        painel=True,
    )


def breaks_line(breaks: dict[str, Any]) -> str:
    """'12 novas, 340 em aberto há mais de 7 dias, …' from the pendencias materialization."""
    amount = f"{float(breaks.get('valor_em_aberto', 0)):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return (
        f"{int(breaks.get('novas', 0))} novas, {int(breaks.get('recorrentes', 0))} recorrentes, "
        f"{int(breaks.get('abertas', 0))} em aberto ({int(breaks.get('abertas_mais_7_dias', 0))} há mais de 7 dias), "
        f"{int(breaks.get('resolvidas', 0))} resolvidas; R$ {amount} em aberto"
    )


def check_alert(instance: dg.DagsterInstance, evaluation: Any, run_id: str | None) -> Alert:
    day = evaluation.partition
    start, end = _run_times(instance, run_id) if run_id else (None, None)
    asset = evaluation.asset_key.to_user_string()
    return Alert(
        tipo="checagem",
        severidade=_check_severity(evaluation),
        titulo=f"Checagem {evaluation.check_name} falhou em {asset}" + (f" ({day})" if day else ""),
        motivo=str(_metadata_value(evaluation.metadata.get("motivo")) or evaluation.description or "")
        or "a checagem não passou (veja os metadados)",
        data_referencia=day,
        job_id=run_id,
        inicio=start,
        fim=end,
        campos={
            "Checagem": f"{asset}/{evaluation.check_name}",
            "Resultado": f"falhou ({evaluation.severity.value})",
            **_scalar_fields(dict(evaluation.metadata)),
        },
        proximo_passo="Abra a checagem na UI (aba Checks do ativo) para os detalhes e exemplos.",
        runbook=CHECK_RUNBOOK.get(evaluation.check_name, RUNBOOK_CHECK),
        # "D missed its deadline" is a fact about the date: re-running D does not repeat it.
        chave=(
            f"checagem:{asset}:{evaluation.check_name}:{day}"
            if evaluation.check_name == PUBLICADA_NO_PRAZO
            else f"checagem:{run_id}:{asset}:{evaluation.check_name}:{day}"
        ),
    )


# ---- sensors ----------------------------------------------------------------------------------------
RUN_ALERT_JOBS = {JOB_NAME, "__ASSET_JOB"}


def finished_runs_of(
    instance: dg.DagsterInstance, state: AlertCursor, status: dg.DagsterRunStatus
) -> list[Any]:
    """This project's runs that finished with ``status`` since the cursor (moves the cursor).

    Read from the instance's run records, not from run-status events: a run started with
    ``dagster job execute`` / ``dagster asset materialize`` has no code-location origin, and
    Dagster's run-status sensors skip it.
    """
    records = finished_runs_after(instance, state.after)
    for record in records:
        state.after = max(state.after or 0.0, record.update_timestamp.timestamp())
    return [
        r.dagster_run
        for r in records
        if r.dagster_run.status == status and r.dagster_run.job_name in RUN_ALERT_JOBS
    ]


@dg.sensor(
    name="alerta_falha_execucao",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Execução que falhou (inclui checagem bloqueante, portão de plausibilidade, tempo esgotado, "
        "arquivo ausente ou rejeitado) → Slack/e-mail, uma vez por execução; inclui execuções da CLI."
    ),
)
def alerta_falha_execucao(
    context: dg.SensorEvaluationContext, notifier: Notifier, storage: ReconStorage
) -> dg.SkipReason | None:
    state = AlertCursor.load(context.cursor)
    resent = state.retry_pending(notifier, context.log)
    sent = 0
    for run in finished_runs_of(context.instance, state, dg.DagsterRunStatus.FAILURE):
        if run.tags.get(FAILURE_SENT_TAG) or state.seen(f"falha:{run.run_id}"):
            continue
        if about_to_retry(run, context.instance):
            context.log.info(
                f"execução {run.run_id} será tentada de novo; alerta adiado para a última tentativa"
            )
            continue
        facts = read_failure_facts(context.instance, run, read_checkpoint(storage, run))
        sent += state.send_once(notifier, failure_alert(facts), context.log)
        context.instance.add_run_tags(run.run_id, {FAILURE_SENT_TAG: _now_iso()})
    context.update_cursor(state.dump())
    return None if sent or resent else dg.SkipReason("nenhuma execução nova com falha")


@dg.sensor(
    name="alerta_dia_conciliado",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Dia publicado com sucesso → mensagem com os KPIs do dia (não para backfills); inclui execuções da CLI.",
)
def alerta_dia_conciliado(context: dg.SensorEvaluationContext, notifier: Notifier) -> dg.SkipReason | None:
    state = AlertCursor.load(context.cursor)
    resent = state.retry_pending(notifier, context.log)
    sent = 0
    for run in finished_runs_of(context.instance, state, dg.DagsterRunStatus.SUCCESS):
        if run.tags.get(BACKFILL_TAG) or run.tags.get(SUCCESS_SENT_TAG):
            continue
        alert = success_alert(context.instance, run)
        if alert is None:
            continue
        sent += state.send_once(notifier, alert, context.log)
        context.instance.add_run_tags(run.run_id, {SUCCESS_SENT_TAG: _now_iso()})
    context.update_cursor(state.dump())
    return None if sent or resent else dg.SkipReason("nenhum dia novo publicado")


@dg.sensor(
    name="alerta_checagens",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Checagens que falharam (ERROR e WARN, não bloqueantes) → Slack/e-mail, uma vez por execução e checagem.",
)
def alerta_checagens(context: dg.SensorEvaluationContext, notifier: Notifier) -> dg.SkipReason | None:
    state = AlertCursor.load(context.cursor)
    state.retry_pending(notifier, context.log)
    records = finished_runs_after(context.instance, state.after)
    sent = 0
    for record in records:
        state.after = max(state.after or 0.0, record.update_timestamp.timestamp())
        run = record.dagster_run
        if run.status == dg.DagsterRunStatus.FAILURE:
            continue  # alerta_falha_execucao reports the run with every check that failed in it
        for event in run_events(context.instance, run.run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            evaluation = event.event_specific_data
            if evaluation.passed or evaluation.check_name == SLA_PUBLICACAO:
                continue
            if _metadata_value(evaluation.metadata.get("publicada")) is False:
                continue  # nothing was published: not a separate incident
            if run.tags.get(BACKFILL_TAG) and evaluation.check_name in BACKFILL_QUIET_CHECKS:
                continue
            sent += state.send_once(
                notifier, check_alert(context.instance, evaluation, run.run_id), context.log
            )
    context.update_cursor(state.dump())
    return None if sent else dg.SkipReason(f"{len(records)} execuções lidas; nenhuma checagem nova com falha")


def _arrival_of_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[datetime, bool]:
    """(arrival, divergences already materialized in this run)."""
    arrival = None
    published = False
    for e in run_events(instance, run.run_id, dg.DagsterEventType.ASSET_MATERIALIZATION):
        mat = e.event_specific_data.materialization
        if mat.asset_key == dg.AssetKey("divergencias"):
            published = True
        if mat.asset_key == dg.AssetKey("arquivos_fornecedor") and "arquivo_chegou_em" in mat.metadata:
            arrival = datetime.fromisoformat(str(_metadata_value(mat.metadata["arquivo_chegou_em"])))
    if run.tags.get(ARRIVAL_TAG):
        arrival = datetime.fromisoformat(run.tags[ARRIVAL_TAG])
    if arrival is None:
        record = instance.get_run_record_by_id(run.run_id)
        arrival = record.create_timestamp if record else datetime.now(tz=UTC)
    if arrival.tzinfo is None:
        arrival = arrival.replace(tzinfo=UTC)
    return arrival, published


def sla_alert(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    level: str,
    minutes: float,
    rules: ReconRules,
    arrival: datetime,
    published: bool,
) -> Alert:
    day = run.tags.get(PARTITION_TAG)
    start, end = _run_times(instance, run.run_id)
    breach = level == "estouro"
    if published:
        what = f"divergências de {day} publicadas {minutes:.1f} min após a chegada do arquivo"
    else:
        what = f"divergências de {day} ainda não publicadas, {minutes:.1f} min após a chegada do arquivo"
    return Alert(
        tipo="sla",
        severidade="CRITICAL" if breach else "HIGH",
        titulo=(f"SLA estourado em {day}" if breach else f"SLA em risco em {day}"),
        motivo=f"{what} (aviso {rules.sla_warn_minutes} min, limite {rules.sla_minutes} min).",
        data_referencia=day,
        job_id=run.run_id,
        inicio=start,
        fim=end,
        campos={
            "Arquivo chegou em": local_time(arrival.timestamp()),
            "Prazo do SLA": local_time(arrival.timestamp() + rules.sla_minutes * 60),
            "Minutos desde a chegada": f"{minutes:.1f}",
            "Publicada": "sim" if published else "não",
        },
        proximo_passo=(
            "Acompanhe a execução; se travada, cancele e re-execute a partir da falha."
            if not published
            else "Registre o atraso; verifique volume do arquivo e a base interna (pool base_interna)."
        ),
        runbook=RUNBOOK_TIMEOUT,
        # Keyed by the file's arrival, not the run: a re-run of a late day does not page again, and
        # the in-progress warning and the check's verdict on the same arrival are one alert.
        chave=f"sla:{day}:{int(arrival.timestamp())}:{level}",
    )


@dg.sensor(
    name="alerta_sla",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="SLA de 20 min da chegada do arquivo à publicação: aviso aos 18 min (HIGH), estouro aos 20 (CRITICAL).",
)
def alerta_sla(
    context: dg.SensorEvaluationContext, notifier: Notifier, rules: ReconRules
) -> dg.SkipReason | None:
    state = AlertCursor.load(context.cursor)
    state.retry_pending(notifier, context.log)
    sent = 0

    def deliver(alert: Alert) -> None:
        nonlocal sent
        sent += state.send_once(notifier, alert, context.log)

    # 1. Finished: the SLA check measured the real publication time.
    for record in finished_runs_after(context.instance, state.after):
        state.after = max(state.after or 0.0, record.update_timestamp.timestamp())
        run = record.dagster_run
        if run.tags.get(BACKFILL_TAG):
            continue
        for event in run_events(context.instance, run.run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            evaluation = event.event_specific_data
            if evaluation.check_name != SLA_PUBLICACAO or evaluation.passed:
                continue
            meta = {k: _metadata_value(v) for k, v in evaluation.metadata.items()}
            if not meta.get("publicada"):
                continue  # blocked: the run failure alert is the message
            level = "estouro" if meta.get("nivel") == "estouro" else "aviso"
            arrival = datetime.fromisoformat(str(meta["arquivo_chegou_em"]))
            deliver(
                sla_alert(
                    context.instance, run, level, float(meta["minutos_ate_publicacao"]), rules, arrival, True
                )
            )
    # 2. Still running: warn at 18 minutes, breach at 20, before the run even finishes.
    now = datetime.now(tz=UTC)
    for run in context.instance.get_runs(
        filters=dg.RunsFilter(job_name=JOB_NAME, statuses=IN_PROGRESS), limit=50
    ):
        if run.tags.get(BACKFILL_TAG) or not run.tags.get(PARTITION_TAG):
            continue
        arrival, published = _arrival_of_run(context.instance, run)
        if published:
            continue
        minutes = (now - arrival).total_seconds() / 60
        if minutes > rules.sla_minutes:
            deliver(sla_alert(context.instance, run, "estouro", minutes, rules, arrival, False))
        elif minutes > rules.sla_warn_minutes:
            deliver(sla_alert(context.instance, run, "aviso", minutes, rules, arrival, False))
    context.update_cursor(state.dump())
    return None if sent else dg.SkipReason("nenhum SLA em risco")


@dg.sensor(
    name="alerta_frescor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Ativo que entrou em FAIL/WARN de frescor (política cron) → alerta; a recuperação também avisa.",
)
def alerta_frescor(
    context: dg.SensorEvaluationContext, notifier: Notifier, deadlines: Deadlines
) -> dg.SkipReason | None:
    state = AlertCursor.load(context.cursor)
    state.retry_pending(notifier, context.log)
    sent = 0
    for record in event_records_after(
        context.instance,
        dg.DagsterEventType.FRESHNESS_STATE_CHANGE,
        None if state.after is None else int(state.after),  # this cursor holds a storage id
    ):
        state.after = record.storage_id
        change = record.event_log_entry.dagster_event.event_specific_data
        new, previous = change.new_state.value, change.previous_state.value
        recovered = new == "PASS" and previous in ("FAIL", "WARN")
        if new not in ("FAIL", "WARN") and not recovered:
            continue  # UNKNOWN / NOT_APPLICABLE noise of the first evaluation
        sent += state.send_once(
            notifier, freshness_alert(context.instance, change, deadlines, recovered), context.log
        )
    context.update_cursor(state.dump())
    return None if sent else dg.SkipReason("nenhuma mudança de frescor relevante")


def freshness_alert(
    instance: dg.DagsterInstance, change: Any, deadlines: Deadlines, recovered: bool
) -> Alert:
    asset = change.key.to_user_string()
    which = "arquivo" if asset == "arquivos_fornecedor" else "divergencias"
    hhmm = deadlines.file_deadline if which == "arquivo" else deadlines.divergences_deadline
    changed_at = datetime.fromtimestamp(change.state_change_timestamp, tz=UTC)
    local = changed_at.astimezone(ZoneInfo(deadlines.timezone))
    # The reference date whose deadline was the last one missed before the change.
    today_ref = deadlines.reference_date_due_at(local)
    day = today_ref if local >= deadlines.deadline(today_ref, which) else today_ref - timedelta(days=1)
    latest = instance.get_latest_materialization_event(change.key)
    last_run = latest.run_id if latest else None
    fields: dict[str, Any] = {
        "Ativo": asset,
        "Estado": f"{change.previous_state.value} → {change.new_state.value}",
        "Prazo diário": f"{hhmm} {deadlines.timezone} (D+{deadlines.days_after})",
        "Mudou em": local.isoformat(timespec="seconds"),
    }
    if latest:
        mat = latest.asset_materialization
        fields["Última materialização"] = f"{local_time(latest.timestamp)}" + (
            f" (partição {mat.partition})" if mat and mat.partition else ""
        )
    else:
        fields["Última materialização"] = "nenhuma"
    if recovered:
        return Alert(
            tipo="frescor",
            severidade="INFO",
            titulo=f"{asset} voltou a ficar em dia",
            motivo=f"{asset} foi materializado e a política de frescor voltou a PASS.",
            data_referencia=day.isoformat(),
            job_id=last_run,
            campos=fields,
            checkpoint=False,
            chave=f"frescor:{asset}:{change.new_state.value}:{int(change.state_change_timestamp)}",
            runbook=RUNBOOK_DAILY,
        )
    return Alert(
        tipo="frescor",
        # A late file is HIGH (the safety-net schedule acts at the same deadline and a missing file
        # becomes its own CRITICAL alert); late divergences are the broken promise: CRITICAL.
        severidade="CRITICAL" if which == "divergencias" and change.new_state.value == "FAIL" else "HIGH",
        titulo=(
            f"{asset} atrasado: arquivo de {day.isoformat()} não processado até {hhmm}"
            if which == "arquivo"
            else f"{asset} atrasado: {day.isoformat()} não publicado até {hhmm}"
        ),
        motivo=(
            f"A política de frescor de {asset} está {change.new_state.value}: nenhuma materialização na "
            f"janela de 24 h até o prazo {hhmm} ({deadlines.timezone})."
        ),
        data_referencia=day.isoformat(),
        job_id=last_run,
        campos=fields,
        proximo_passo=(
            f"Verifique se o arquivo de {day.isoformat()} chegou e se há execução em andamento; "
            "a rede de segurança inicia a execução no prazo do arquivo."
        ),
        checkpoint=False,
        chave=f"frescor:{asset}:{change.new_state.value}:{int(change.state_change_timestamp)}",
        runbook=RUNBOOK_FILE_MISSING if which == "arquivo" else RUNBOOK_LATE,
    )


ALERT_SENSORS = [alerta_falha_execucao, alerta_dia_conciliado, alerta_checagens, alerta_sla, alerta_frescor]
