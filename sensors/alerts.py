"""Alert sensors: a failed run, a failed check, the SLA, a stale asset, and the healthy day.

Each sensor is a thin wrapper: it pages the instance after its cursor, reads the facts of what
happened (:mod:`sensors.alert_facts`), builds the message with a pure function
(:mod:`sensors.alert_messages`) and delivers it through the notifier, once.

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

from datetime import UTC, datetime
from typing import Any

import dagster as dg

from reconciliation_assets import clock
from reconciliation_assets.contract import (
    AUDIT_JOB_NAME,
    BACKFILL_TAG,
    FAILURE_SENT_TAG,
    JOB_NAME,
    PARTITION_TAG,
    PUBLICADA_NO_PRAZO,
    SLA_PUBLICACAO,
    SUCCESS_SENT_TAG,
)
from resources.notify import Alert, Notifier
from resources.settings import Deadlines, ReconRules
from resources.storage import ReconStorage
from sensors.alert_facts import (
    about_to_retry,
    read_check_evaluations,
    read_checkpoint,
    read_failure_facts,
    read_freshness_facts,
    read_run_facts,
    read_running_sla_facts,
    read_success_facts,
    running_runs,
    sla_facts_of_check,
)
from sensors.alert_messages import (
    RUNBOOK_ANCHORS,
    check_alert,
    failure_alert,
    freshness_alert,
    sla_alert,
    sla_check_level,
    sla_level,
    success_alert,
)
from sensors.events import AlertCursor, event_records_after, finished_runs_after

# Names other modules and tests import from here (their home is alert_facts / alert_messages / the contract).
__all__ = [
    "ALERT_SENSORS",
    "FAILURE_SENT_TAG",
    "RUNBOOK_ANCHORS",
    "SUCCESS_SENT_TAG",
    "alerta_checagens",
    "alerta_dia_conciliado",
    "alerta_falha_execucao",
    "alerta_frescor",
    "alerta_sla",
    "finished_runs_of",
]

RUN_ALERT_JOBS = {JOB_NAME, "__ASSET_JOB"}
# A failed audit run (it could not read what was published) is alerted too; its success is not news.
FAILURE_ALERT_JOBS = RUN_ALERT_JOBS | {AUDIT_JOB_NAME}
BACKFILL_QUIET_CHECKS = {SLA_PUBLICACAO, PUBLICADA_NO_PRAZO}


def _now_iso() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="seconds")


def finished_runs_of(
    instance: dg.DagsterInstance,
    state: AlertCursor,
    status: dg.DagsterRunStatus,
    jobs: set[str] = RUN_ALERT_JOBS,
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
        r.dagster_run for r in records if r.dagster_run.status == status and r.dagster_run.job_name in jobs
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
    for run in finished_runs_of(context.instance, state, dg.DagsterRunStatus.FAILURE, FAILURE_ALERT_JOBS):
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
        facts = read_success_facts(context.instance, run)
        if facts is None:
            continue  # the run published no day (e.g. an asset job of other assets)
        sent += state.send_once(notifier, success_alert(facts), context.log)
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
        for check in read_check_evaluations(context.instance, run.run_id):
            if check.passed or check.check_name == SLA_PUBLICACAO:
                continue
            if check.metadata.get("publicada") is False:
                continue  # nothing was published: not a separate incident
            if run.tags.get(BACKFILL_TAG) and check.check_name in BACKFILL_QUIET_CHECKS:
                continue
            alert = check_alert(check, read_run_facts(context.instance, run))
            sent += state.send_once(notifier, alert, context.log)
    context.update_cursor(state.dump())
    return None if sent else dg.SkipReason(f"{len(records)} execuções lidas; nenhuma checagem nova com falha")


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
        for check in read_check_evaluations(context.instance, run.run_id):
            if check.check_name != SLA_PUBLICACAO or check.passed:
                continue
            if not check.metadata.get("publicada"):
                continue  # blocked: the run failure alert is the message
            facts = sla_facts_of_check(read_run_facts(context.instance, run), check)
            deliver(sla_alert(facts, sla_check_level(check), rules))
    # 2. Still running: warn at 18 minutes, breach at 20, before the run even finishes.
    now = clock.now()
    for run in running_runs(context.instance):
        if run.tags.get(BACKFILL_TAG) or not run.tags.get(PARTITION_TAG):
            continue
        facts = read_running_sla_facts(context.instance, run, now)
        if facts.published:
            continue
        level = sla_level(facts.minutes, rules)
        if level is not None:
            deliver(sla_alert(facts, level, rules))
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
        facts = read_freshness_facts(
            context.instance, record.event_log_entry.dagster_event.event_specific_data
        )
        if not facts.relevant:
            continue  # UNKNOWN / NOT_APPLICABLE noise of the first evaluation
        sent += state.send_once(notifier, freshness_alert(facts, deadlines), context.log)
    context.update_cursor(state.dump())
    return None if sent else dg.SkipReason("nenhuma mudança de frescor relevante")


ALERT_SENSORS = [alerta_falha_execucao, alerta_dia_conciliado, alerta_checagens, alerta_sla, alerta_frescor]
