"""Alerts reach people exactly once: real runs, the real sensors, and real receivers on loopback."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from reconciliation_assets.assets.common import ARRIVAL_TAG
from resources.notify import Alert, Notifier, slack_escape
from resources.settings import Deadlines, ReconRules
from sensors.alerts import (
    ALERT_SENSORS,
    FAILURE_SENT_TAG,
    alerta_falha_execucao,
    alerta_frescor,
    alerta_sla,
)
from tests.receivers import (
    LOOPBACK,
    SMTP_PASSWORD,
    SMTP_USER,
    WEBHOOK_TOKEN,
    local_day,
    matching_day,
    pin_clock,
    run_day,
    write_day,
)

pytest_plugins = ["tests.receivers"]  # the loopback receivers and the day harness
LOG = logging.getLogger("recon.alertas.teste")
DAY = "2024-03-10"
UI = "http://dagster.interno:3000/"


def notifier_for(webhook, smtp, root, **overrides) -> Notifier:
    config = {
        "slack_webhook_url": webhook.url,
        "smtp_host": LOOPBACK,
        "smtp_port": smtp.port,
        "smtp_user": SMTP_USER,
        "smtp_password": SMTP_PASSWORD,
        "smtp_from": "conciliacao@empresa.example",
        "smtp_to": "ops@empresa.example, dados@empresa.example",
        "ui_base_url": UI,
        "checkpoint_uri": str(root / "checkpoints"),
        "backoff_s": 0.01,
        "timeout_s": 3.0,
    }
    return Notifier(**{**config, **overrides})


class Ticker:
    """Ticks the cursor-based sensors with their cursors kept between ticks, like the daemon."""

    def __init__(self, instance, resources):
        self.instance, self.resources, self.cursors = instance, resources, {}

    def tick(self, *sensors):
        for sensor in sensors:
            with dg.build_sensor_context(
                instance=self.instance, cursor=self.cursors.get(sensor.name), resources=self.resources
            ) as context:
                sensor(context)
                self.cursors[sensor.name] = context.cursor

    def all(self, run_ids=()):
        """Every alert sensor, twice, for the finished runs (the second pass must add nothing)."""
        for _ in range(2):
            self.tick(*ALERT_SENSORS)


def resources_for(notifier):
    from reconciliation_assets.resources_config import s3_resource
    from resources.storage import ReconStorage

    storage = ReconStorage(checkpoint_uri=notifier.checkpoint_uri, s3=s3_resource())
    return {"notifier": notifier, "rules": ReconRules(), "deadlines": Deadlines(), "storage": storage}


def email_body(message) -> str:
    return message.get_content().replace("\r\n", "\n")


def assert_failure_fields(post, message, run_id, day, reason, root):
    """job id, date, start/end, reason, checkpoint location and the run link, on both channels."""
    checkpoint = f"{root / 'checkpoints'}/{run_id}/"
    link = f"{UI.rstrip('/')}/runs/{run_id}"
    blocks = json.dumps(post["blocks"], ensure_ascii=False)
    for needle in (run_id, day, checkpoint, slack_escape(link), "Início", "Fim", slack_escape(reason)):
        assert needle in blocks, needle
    assert run_id in post["text"] and day in post["text"]
    body = email_body(message)
    for needle in (
        f"Job id: {run_id}",
        f"Data de referência: {day}",
        "Início: ",
        "Fim: ",
        f"Checkpoint: {checkpoint}",
        f"Execução: {link}",
        reason,
    ):
        assert needle in body, (needle, body)
    assert message["To"] == "ops@empresa.example, dados@empresa.example"


# ---- the notifier on its own ----------------------------------------------------------------------------
def test_slack_payload_has_fallback_text_blocks_and_escapes():
    notifier = Notifier(
        ui_base_url="https://dagster.example/?a=1&b=2", checkpoint_uri="s3://recon/checkpoints"
    )
    alert = Alert(
        tipo="falha_execucao",
        severidade="CRITICAL",
        titulo="Falha <!channel> & cia",
        motivo="valor <b>inválido</b> & <!here>",
        data_referencia=DAY,
        job_id="abc-123",
        inicio="2024-03-11T07:00:00-03:00",
        fim="2024-03-11T07:03:00-03:00",
        campos={"Etapa": "divergencias"},
    )
    rendered = notifier.render(alert)
    payload = rendered.slack
    assert set(payload) == {"text", "blocks"}
    assert "&lt;!channel&gt; &amp; cia" in payload["text"] and "<!" not in payload["text"]
    assert "<!" not in json.dumps(payload["blocks"][1:])  # no ping anywhere in mrkdwn
    assert payload["blocks"][0]["type"] == "header" and payload["blocks"][0]["text"]["type"] == "plain_text"
    assert len(payload["blocks"][2]["fields"]) <= 10
    assert "<https://dagster.example/?a=1&amp;b=2/runs/abc-123|Abrir a execução no Dagster>" in json.dumps(
        payload["blocks"], ensure_ascii=False
    )
    assert "Checkpoint: s3://recon/checkpoints/abc-123/" in rendered.body
    assert rendered.subject == "[conciliação][CRITICAL] Falha <!channel> & cia"  # e-mail is plain text
    assert Notifier().render(alert).link is None  # RECON_UI_BASE_URL unset: no link, said in the body
    assert "RECON_UI_BASE_URL não configurada" in Notifier().render(alert).body


def test_notifier_delivers_to_webhook_and_smtp_with_auth(webhook, smtp, tmp_path):
    outcome = notifier_for(webhook, smtp, tmp_path).send(
        Alert(
            tipo="checagem", severidade="HIGH", titulo="teste", motivo="m", data_referencia=DAY, job_id="r1"
        )
    )
    assert outcome == {"slack": "ok", "email": "ok"}
    assert len(webhook.posts) == 1 and webhook.paths == [f"/services/{WEBHOOK_TOKEN}"]
    assert len(smtp.messages) == 1 and smtp.logins == [SMTP_USER]
    assert smtp.envelopes[0] == (
        "conciliacao@empresa.example",
        ["ops@empresa.example", "dados@empresa.example"],
    )
    assert smtp.messages[0]["Subject"] == "[conciliação][HIGH] teste"


def test_smtp_starttls_with_a_private_ca(smtp_starttls, tmp_path):
    base = {"smtp_host": LOOPBACK, "smtp_port": smtp_starttls.port, "smtp_to": "ops@empresa.example"}
    auth = {"smtp_user": SMTP_USER, "smtp_password": SMTP_PASSWORD, "backoff_s": 0.01, "timeout_s": 3.0}
    alert = Alert(tipo="checagem", severidade="HIGH", titulo="tls")
    ok = Notifier(**base, **auth, smtp_tls="starttls", smtp_ca_file=smtp_starttls.ca_file).send(alert)
    assert ok == {"email": "ok"} and len(smtp_starttls.messages) == 1 and smtp_starttls.logins == [SMTP_USER]
    refused = Notifier(**base, **auth, smtp_tls="none").send(alert)  # the server insists on STARTTLS
    assert refused["email"].startswith("erro") and len(smtp_starttls.messages) == 1
    assert SMTP_PASSWORD not in refused["email"]


def test_a_receiver_that_is_down_is_retried_with_backoff_and_never_raises(
    webhook, smtp, down_port, tmp_path, caplog
):
    webhook.fail_next = 2  # the webhook answers 500 twice, then recovers
    flaky = notifier_for(webhook, smtp, tmp_path, max_attempts=3)
    assert flaky.send(Alert(tipo="checagem", severidade="HIGH", titulo="x")) == {"slack": "ok", "email": "ok"}
    assert len(webhook.posts) == 1
    down = notifier_for(
        webhook,
        smtp,
        tmp_path,
        slack_webhook_url=f"http://{LOOPBACK}:{down_port}/services/{WEBHOOK_TOKEN}",
        smtp_port=down_port,
        max_attempts=3,
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="recon.alertas"):
        outcome = down.send(Alert(tipo="checagem", severidade="HIGH", titulo="y"))
    assert outcome["slack"].startswith("erro") and outcome["email"].startswith("erro")
    retries = [r for r in caplog.records if "nova tentativa" in r.getMessage()]
    assert len(retries) == 4  # 2 retries per channel after the first failure
    assert WEBHOOK_TOKEN not in caplog.text and SMTP_PASSWORD not in caplog.text


# ---- incidents, end to end ------------------------------------------------------------------------------
def test_a_run_failure_sends_exactly_one_message(recon_env, instance, webhook, smtp):
    lines, _ = matching_day(DAY, 5)
    write_day(recon_env, DAY, lines, [])
    (recon_env / "base.duckdb").unlink()  # the internal base is unreachable
    result = run_day(instance, DAY)
    assert not result.success
    ticker = Ticker(instance, resources_for(notifier_for(webhook, smtp, recon_env)))
    ticker.all([result.run_id])
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    assert_failure_fields(webhook.posts[0], smtp.messages[0], result.run_id, DAY, "base interna", recon_env)
    assert "Falha na conciliação de 2024-03-10" in webhook.posts[0]["text"]
    assert instance.get_run_by_id(result.run_id).tags.get(FAILURE_SENT_TAG)


def test_a_run_about_to_be_retried_is_not_alerted(recon_env, instance, webhook, smtp):
    lines, _ = matching_day(DAY, 5)
    write_day(recon_env, DAY, lines, [])
    (recon_env / "base.duckdb").unlink()
    result = run_day(instance, DAY)
    resources = resources_for(notifier_for(webhook, smtp, recon_env))
    ticker = Ticker(instance, resources)
    instance.add_run_tags(result.run_id, {"dagster/will_retry": "true"})
    ticker.tick(alerta_falha_execucao)
    assert webhook.posts == [] and smtp.messages == []
    instance.add_run_tags(result.run_id, {"dagster/will_retry": "false"})  # the last attempt
    ticker.tick(alerta_falha_execucao)
    ticker.tick(alerta_falha_execucao)
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1


def test_a_failed_error_check_sends_exactly_one_message(recon_env, instance, webhook, smtp, monkeypatch):
    now = pin_clock(monkeypatch)
    day = local_day(now)
    lines, base = matching_day(day, 20)
    lines[0] = lines[0].rsplit(";", 1)[0] + ";abc"  # 2 of 20 lines quarantined: 10% > 5%
    lines[1] = lines[1].rsplit(";", 1)[0] + ";1,2,3"
    write_day(recon_env, day, lines, base)
    result = run_day(instance, day)
    assert result.success
    Ticker(instance, resources_for(notifier_for(webhook, smtp, recon_env))).all([result.run_id])
    checks = [p for p in webhook.posts if "Checagem taxa_quarentena" in p["text"]]
    assert len(checks) == 1
    assert checks[0]["text"].startswith("[CRITICAL] Checagem taxa_quarentena falhou em quarentena")
    check_mail = [m for m in smtp.messages if "taxa_quarentena" in m["Subject"]]
    assert len(check_mail) == 1
    assert_failure_fields(
        checks[0], check_mail[0], result.run_id, day, "2 de 20 linhas em quarentena", recon_env
    )
    # The day itself was published: one success message, flagged with the failed check. Nothing else.
    assert len(webhook.posts) == 2 and len(smtp.messages) == 2
    success = next(p for p in webhook.posts if p is not checks[0])
    assert "publicada (com alertas)" in success["text"] and "taxa_quarentena (ERROR)" in json.dumps(
        success["blocks"], ensure_ascii=False
    )


def test_a_late_date_alerts_its_deadline_except_inside_a_backfill(recon_env, instance, webhook, smtp):
    write_day(recon_env, DAY, *matching_day(DAY, 5))  # 2024-03-10 published today: long after D+1 07:20
    backfill = run_day(instance, DAY, tags={"dagster/backfill": "bf1"})
    ticker = Ticker(instance, resources_for(notifier_for(webhook, smtp, recon_env)))
    ticker.all([backfill.run_id])
    assert backfill.success and webhook.posts == [] and smtp.messages == []  # deliberate work on the past
    # The supplier's file for DAY lands only now: the sensor's run is measured and misses the deadline
    # (a manual re-run of an old date, like the backfill, is not measured: tests/test_launch_paths.py).
    manual = run_day(instance, DAY, tags={ARRIVAL_TAG: datetime.now(tz=UTC).isoformat()})
    ticker.all([manual.run_id])
    deadline = [p for p in webhook.posts if "publicada_no_prazo" in p["text"]]
    assert len(deadline) == 1 and deadline[0]["text"].startswith("[HIGH] Checagem publicada_no_prazo falhou")
    assert "2024-03-11T07:20:00-03:00" in json.dumps(deadline[0]["blocks"], ensure_ascii=False)
    assert len(webhook.posts) == 2  # + the success message "(com alertas)"


def test_a_blocking_check_is_reported_once_with_the_failed_run(recon_env, instance, webhook, smtp):
    lines, base = matching_day(DAY, 6)
    base[0] = (*base[0][:5], None)  # saldo_explicado fails
    write_day(recon_env, DAY, lines, base)
    result = run_day(instance, DAY)
    assert not result.success
    Ticker(instance, resources_for(notifier_for(webhook, smtp, recon_env))).all([result.run_id])
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    assert_failure_fields(
        webhook.posts[0],
        smtp.messages[0],
        result.run_id,
        DAY,
        "checagem bloqueante saldo_explicado",
        recon_env,
    )
    assert "Publicação suspensa" in email_body(smtp.messages[0])


@pytest.mark.slow  # ~22 s measured
def test_an_sla_warning_and_a_deadline_breach_each_send_exactly_one_message(
    recon_env, instance, webhook, smtp, monkeypatch
):
    now = pin_clock(monkeypatch)
    day = local_day(now)
    lines, base = matching_day(day, 10)
    write_day(recon_env, day, lines, base)
    arrived = now - timedelta(minutes=19)  # published past 18 min, before 20
    result = run_day(instance, day, tags={ARRIVAL_TAG: arrived.isoformat()})
    assert result.success
    ticker = Ticker(instance, resources_for(notifier_for(webhook, smtp, recon_env)))
    ticker.all()
    rerun = run_day(instance, day, tags={ARRIVAL_TAG: arrived.isoformat()})  # same file, run again
    ticker.all()
    sla = [p for p in webhook.posts if "SLA" in p["blocks"][0]["text"]["text"]]
    assert len(sla) == 1  # the warning of that arrival, once
    assert sla[0]["text"].startswith(f"[HIGH] SLA em risco em {day}")
    mail = next(m for m in smtp.messages if "SLA" in m["Subject"])
    assert_failure_fields(sla[0], mail, result.run_id, day, "publicadas 19", recon_env)
    assert "limite 20 min" in email_body(
        mail
    ) and "Runbook: docs/runbook.md#timeout-20-minutes" in email_body(mail)
    assert len(webhook.posts) == 3  # + each run's success message (with the failed SLA check listed)
    assert rerun.success

    # 25 minutes after the arrival the run's deadline stops it: one CRITICAL timeout alert, no SLA one.
    late = run_day(instance, day, tags={ARRIVAL_TAG: (arrived - timedelta(minutes=6)).isoformat()})
    assert not late.success
    ticker.all()
    assert len(webhook.posts) == 4 and len(smtp.messages) == 4
    assert webhook.posts[3]["text"].startswith(
        f"[CRITICAL] Conciliação de {day} excedeu o prazo de 20 minutos | data {day} | job {late.run_id} | "
        "Prazo estourado na etapa arquivos_fornecedor"
    )
    body = email_body(smtp.messages[3])
    checkpoint = f"{recon_env / 'checkpoints'}/{late.run_id}/checkpoint.json"
    for needle in (f"Checkpoint: {checkpoint}\n", "Checkpoint status: TIMEOUT\n", "#timeout-20-minutes\n"):
        assert needle in body, (needle, body)


def test_a_run_still_going_past_the_sla_is_alerted_before_it_ends(
    instance, webhook, smtp, tmp_path, monkeypatch
):
    from dagster._core.test_utils import create_run_for_test

    now = pin_clock(monkeypatch)

    late = create_run_for_test(
        instance,
        job_name="daily_reconciliation",
        status=dg.DagsterRunStatus.STARTED,
        tags={
            "dagster/partition": DAY,
            ARRIVAL_TAG: (now - timedelta(minutes=21)).isoformat(),
        },
    )
    at_risk = create_run_for_test(
        instance,
        job_name="daily_reconciliation",
        status=dg.DagsterRunStatus.STARTED,
        tags={
            "dagster/partition": "2024-03-09",
            ARRIVAL_TAG: (now - timedelta(minutes=19)).isoformat(),
        },
    )
    ticker = Ticker(instance, resources_for(notifier_for(webhook, smtp, tmp_path)))
    ticker.tick(alerta_sla)
    ticker.tick(alerta_sla)
    texts = sorted(webhook.texts())
    assert len(texts) == 2 and len(smtp.messages) == 2
    assert texts[0].startswith("[CRITICAL] SLA estourado em 2024-03-10") and late.run_id in texts[0]
    assert texts[1].startswith("[HIGH] SLA em risco em 2024-03-09") and at_risk.run_id in texts[1]
    assert "ainda não publicadas" in texts[0]


def test_a_missing_file_sends_exactly_one_message(recon_env, instance, webhook, smtp):
    from reconciliation_assets.definitions import build_defs

    (recon_env / "ingress").mkdir()
    write_day(recon_env, "2024-03-09", *matching_day("2024-03-09", 2))  # another day only
    defs = build_defs()
    schedule = defs.resolve_schedule_def("rede_de_seguranca_diaria")
    deadline = datetime(2024, 3, 11, 7, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
    request = schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=deadline))
    assert isinstance(request, dg.RunRequest) and request.partition_key == DAY
    result = run_day(instance, DAY, tags=request.tags)
    assert not result.success
    Ticker(instance, resources_for(notifier_for(webhook, smtp, recon_env))).all([result.run_id])
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    post = webhook.posts[0]
    assert post["text"].startswith(f"[CRITICAL] Arquivo do fornecedor ausente para {DAY} (até o prazo)")
    assert_failure_fields(
        post, smtp.messages[0], result.run_id, DAY, f"Nenhum arquivo *.csv para {DAY}", recon_env
    )
    assert "rede_de_seguranca" in email_body(smtp.messages[0])


def test_a_fail_freshness_state_sends_exactly_one_message(instance, webhook, smtp, tmp_path):
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
    from dagster._daemon.freshness import FreshnessDaemon

    instance.report_runless_asset_event(dg.AssetMaterialization("divergencias", partition=DAY))
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            module_name="reconciliation_assets.definitions", attribute="defs", working_directory=os.getcwd()
        ),
        location_name="recon",
    )
    ticker = Ticker(instance, resources_for(notifier_for(webhook, smtp, tmp_path)))
    later = datetime.now(tz=UTC) + timedelta(days=2)
    with create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget(origin), instance) as workspace:
        daemon = FreshnessDaemon()
        list(daemon.run_iteration(workspace))  # materialized just now: PASS (and first-pass noise)
        ticker.tick(alerta_frescor)
        assert webhook.posts == []
        with freeze_time(later):
            list(daemon.run_iteration(workspace))  # two days without a materialization: FAIL
            ticker.tick(alerta_frescor)
            ticker.tick(alerta_frescor)
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    post = webhook.posts[0]
    expected_day = (later.astimezone(ZoneInfo("America/Sao_Paulo")) - timedelta(days=1)).date()
    if later.astimezone(ZoneInfo("America/Sao_Paulo")).time() < datetime.strptime("07:20", "%H:%M").time():
        expected_day -= timedelta(days=1)
    assert post["text"].startswith(f"[CRITICAL] divergencias atrasado: {expected_day.isoformat()}")
    body = email_body(smtp.messages[0])
    assert "Estado: PASS → FAIL" in body and f"partição {DAY}" in body and "07:20" in body


def test_a_healthy_day_sends_one_success_message_with_kpis(recon_env, instance, webhook, smtp, monkeypatch):
    now = pin_clock(monkeypatch)
    day = local_day(now)
    lines, base = matching_day(day, 40)
    lines.append(f"F9;FALTA-NA-BASE;Ana;A1;{base[0][4]};1234.50")  # one break, a TIPO_1
    write_day(recon_env, day, lines, base)
    result = run_day(instance, day)
    assert result.success
    Ticker(instance, resources_for(notifier_for(webhook, smtp, recon_env))).all([result.run_id])
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    assert webhook.posts[0]["text"].startswith(f"[INFO] Conciliação de {day} publicada")
    body = email_body(smtp.messages[0])
    for kpi in (
        "Linhas do arquivo: 41",
        "Validadas: 41",
        "Quarentena: 0 (0.00%)",
        "Divergências: 1",
        "Taxa de divergência: 2.44%",
        "Pendências: 1 novas, 0 recorrentes, 1 em aberto (0 há mais de 7 dias), 0 resolvidas; R$ 1.234,50 em aberto",
        "Diferença não explicada: 0.00",
        "SLA cumprido: sim",
        f"Job id: {result.run_id}",
        f"Execução: {UI.rstrip('/')}/runs/{result.run_id}",
        f"Relatório: {recon_env / 'output' / 'relatorio' / f'data_referencia={day}' / 'index.html'}",
    ):
        assert kpi in body, kpi
    assert "Checkpoint" not in body  # nothing to resume
    assert "Painel:" not in body  # RECON_PAINEL_URL unset: no dashboard link


PAINEL = "https://painel.empresa.example/recon/"


def test_the_success_message_links_to_the_report_and_the_dashboard_view_of_the_date(
    recon_env, instance, webhook, smtp, monkeypatch
):
    now = pin_clock(monkeypatch)
    day = local_day(now)
    lines, base = matching_day(day, 20)
    write_day(recon_env, day, [*lines, f"F9;FALTA-NA-BASE;Ana Lima;A1;{base[0][4]};1234.50"], base)
    monkeypatch.setenv("RECON_PAINEL_URL", PAINEL)  # the run's report links to the dashboard too
    result = run_day(instance, day)
    assert result.success
    Ticker(instance, resources_for(notifier_for(webhook, smtp, recon_env, painel_url=PAINEL))).all()
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    report = recon_env / "output" / "relatorio" / f"data_referencia={day}" / "index.html"
    painel = f"https://painel.empresa.example/recon/?inicio={day}&fim={day}"
    body = email_body(smtp.messages[0])
    assert f"\nRelatório: {report}\nPainel: {painel}\n" in body
    blocks = json.dumps(webhook.posts[0]["blocks"], ensure_ascii=False)
    assert f"<{slack_escape(painel)}|Abrir o painel da data>" in blocks and f"Relatório: {report}" in blocks
    html = report.read_text(encoding="utf-8")
    assert f'href="{painel.replace("&", "&amp;")}"' in html and "***Lima" in html and "Ana Lima" not in html


def test_a_receiver_that_is_down_does_not_fail_the_run(recon_env, instance, down_port, monkeypatch, capfd):
    monkeypatch.setenv("RECON_SLACK_WEBHOOK_URL", f"http://{LOOPBACK}:{down_port}/services/{WEBHOOK_TOKEN}")
    monkeypatch.setenv("RECON_SMTP_HOST", LOOPBACK)
    monkeypatch.setenv("RECON_SMTP_PORT", str(down_port))
    monkeypatch.setenv("RECON_SMTP_TO", "ops@empresa.example")
    from reconciliation_assets.definitions import build_defs

    now = pin_clock(monkeypatch)
    day = local_day(now)
    write_day(recon_env, day, *matching_day(day, 10))
    result = run_day(instance, day)
    assert result.success
    notifier = build_defs().resources["notifier"].model_copy(update={"backoff_s": 0.01})
    capfd.readouterr()
    Ticker(instance, resources_for(notifier)).all([result.run_id])  # does not raise
    err = capfd.readouterr().err
    errors = [line for line in err.splitlines() if " - ERROR - " in line and '"evento": "alerta"' in line]
    assert len(errors) == 2 and all('"slack": "erro' in e and '"email": "erro' in e for e in errors)
    assert '"reenvio"' not in errors[0] and '"reenvio": true' in errors[1]  # tick 2 retries what is owed
    assert err.count("nova tentativa") == 4  # 3 attempts per channel at first; a later retry makes 1
    assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS


def test_alert_cursor_is_bounded_and_dedups():
    from sensors.events import MAX_KEYS, AlertCursor

    cursor = AlertCursor(after=7)
    for i in range(MAX_KEYS + 50):
        cursor.mark(f"k{i}")
    cursor.mark("k60")
    restored = AlertCursor.load(cursor.dump())
    assert restored.after == 7 and len(restored.sent) == MAX_KEYS
    assert restored.seen("k60") and restored.seen(f"k{MAX_KEYS + 49}") and not restored.seen("k0")
    assert AlertCursor.load("123").after == 123 and AlertCursor.load(None).after is None


def test_no_secret_and_no_unmasked_nome_in_any_log_line_or_message(
    recon_env, instance, webhook, smtp, monkeypatch, caplog, capfd
):
    """A run configured with real secrets: scan the event log, stdout/stderr, Python logs and messages."""
    from reconciliation_assets.definitions import build_defs
    from tests.test_checks_quality import rewrite_parquet

    monkeypatch.setenv("RECON_SLACK_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("RECON_SMTP_HOST", LOOPBACK)
    monkeypatch.setenv("RECON_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("RECON_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("RECON_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("RECON_SMTP_TO", "ops@empresa.example")
    monkeypatch.setenv("RECON_UI_BASE_URL", UI)
    nome = "José da Silva Xavier"
    now = pin_clock(monkeypatch)
    day = local_day(now)
    lines, base = matching_day(day, 20, nome=nome)
    lines[0] = lines[0].rsplit(";", 1)[0] + ";abc"  # quarantined (2 of 20: the rate check fails),
    lines[1] = lines[1].rsplit(";", 1)[0] + ";1.2.3"  # with the nome in the raw lines
    lines[2] = lines[2].replace(nome, "José Xavier")  # a TIPO_3_NOME divergence
    write_day(recon_env, day, lines, base)

    import reconciliation_assets.assets.validated as validated

    caplog.set_level(logging.DEBUG)
    first = run_day(instance, day)  # succeeds, with a failed quarantine-rate check
    real = validated.validate_day

    def regressed(paths, *a, **k):  # then a regression leaves nome untrimmed: pandera fails on it
        stats = real(paths, *a, **k)
        rewrite_parquet(paths.validadas, "SELECT * REPLACE (' ' || nome AS nome) FROM {t}")
        return stats

    monkeypatch.setattr(validated, "validate_day", regressed)
    second = run_day(instance, day)
    assert first.success and not second.success
    resources = {**resources_for(build_defs().resources["notifier"]), "rules": ReconRules()}
    Ticker(instance, resources).all([first.run_id, second.run_id])
    assert len(webhook.posts) >= 3 and smtp.logins  # check + success + failure, and the password was used

    out, err = capfd.readouterr()
    haystacks = {
        "event log": "\n".join(
            f"{e.user_message}\n{e.dagster_event.message if e.dagster_event else ''}\n"
            + (dg.serialize_value(e.dagster_event) if e.dagster_event else "")
            for run_id in (first.run_id, second.run_id)
            for e in instance.all_logs(run_id)
        ),
        # (mail.log is the fake SMTP server's own debug log, not ours)
        "python logs": "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log"),
        "stdout/stderr": out + err,
        "webhook": "\n".join(b.decode("utf-8") for b in webhook.raw),
        "e-mail": "\n".join(b.decode("utf-8", "replace") for b in smtp.raw)
        + "\n".join(m.get_content() for m in smtp.messages),
    }
    secrets = [SMTP_PASSWORD, WEBHOOK_TOKEN, webhook.url]
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"secret in {where}"
        for plain in (nome, "José da Silva", "Silva Xavier", "José Xavier"):
            assert plain not in text, f"unmasked nome {plain!r} in {where}"
    assert "***Xavier" in haystacks["event log"]  # the masked form is what the pandera check shows
    assert (
        haystacks["event log"].count('"evento": "etapa"') == 6 + 2
    )  # 6 stages (the report's included), then 2 before the block
    assert '"evento": "alerta"' in haystacks["stdout/stderr"]  # the sensors' delivery lines were scanned


# ---- failure causes, checkpoints, gates, CLI runs and undelivered alerts -----------------------------------
RUNBOOK = "https://git.example.com/recon/blob/main/docs/runbook.md"


class InternalBaseUnavailable(RuntimeError):
    """A transient error the step's RetryPolicy retries (what a dropped Postgres connection looks like)."""


def synthetic_failure(instance, kind: str):
    """A small partitioned asset run that fails like the real chain does, with its real event log."""
    from reconciliation_assets.partitions import daily_partitions

    if kind == "retried":

        @dg.asset(
            name="base_interna_snapshot",
            partitions_def=daily_partitions,
            retry_policy=dg.RetryPolicy(max_retries=3, delay=0),
        )
        def failing():
            raise InternalBaseUnavailable(
                "base interna indisponível: conexão recusada em db:5432\nsegunda linha"
            )

        assets = [failing]
    else:  # the real blocking plausibility gate (checks/plausibility.py) on divergencias
        from checks.plausibility import compare_inputs, plausibility_check

        @dg.asset(
            name="divergencias",
            partitions_def=daily_partitions,
            check_specs=[dg.AssetCheckSpec("plausibilidade", asset="divergencias", blocking=True)],
        )
        def gated():
            yield dg.MaterializeResult()
            yield plausibility_check(
                {"linhas_validas": 5, "linhas_base_escopo": 0, "casadas": 0, "taxa_divergencia": 1.0},
                min_taxa_casamento=0.5,
                max_taxa_divergencia=0.9,
                released=False,
                inputs_change=compare_inputs({}, None),
            )

        assets = [gated]
    job = dg.define_asset_job("daily_reconciliation", partitions_def=daily_partitions)
    result = (
        dg.Definitions(assets=assets, jobs=[job])
        .resolve_job_def("daily_reconciliation")
        .execute_in_process(partition_key=DAY, instance=instance, raise_on_error=False)
    )
    assert not result.success
    return result


def test_a_retried_step_alerts_its_real_cause_with_the_runbook_link(instance, webhook, smtp, tmp_path):
    result = synthetic_failure(instance, "retried")
    ticker = Ticker(instance, resources_for(notifier_for(webhook, smtp, tmp_path, runbook_url=RUNBOOK)))
    ticker.all()
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    cause = "InternalBaseUnavailable: base interna indisponível: conexão recusada em db:5432"
    assert webhook.posts[0]["text"] == (
        f"[CRITICAL] Falha na conciliação de {DAY} | data {DAY} | job {result.run_id} | "
        f"base_interna_snapshot: {cause}"
    )
    body = email_body(smtp.messages[0])
    assert f"Erro: {cause}\n" in body and "max_retries" not in body and "segunda linha" not in body
    assert f"Runbook: {RUNBOOK}#reconciliation-failure\n" in body
    assert f"<{RUNBOOK}#reconciliation-failure|Runbook>" in json.dumps(webhook.posts[0]["blocks"])


def test_a_timeout_checkpoint_alerts_critical_with_the_20_minute_deadline(instance, webhook, smtp, tmp_path):
    result = synthetic_failure(instance, "retried")
    location = f"{tmp_path / 'checkpoints'}/{result.run_id}/checkpoint.json"
    (tmp_path / "checkpoints" / result.run_id).mkdir(parents=True)
    checkpoint = {
        "job_id": result.run_id,
        "start_time": "2024-03-11T07:00:00-03:00",
        "end_time": "2024-03-11T07:20:00-03:00",
        "status": "TIMEOUT",
        "data_referencia": DAY,
        "progress": {
            "total_lines": 1000000,
            "processed_lines": 600000,
            "pending_lines": 400000,
            "last_completed_unit": "validacao",
            "completed_units": ["arquivos_fornecedor", "validacao"],
        },
        "checkpoint_location": location,
        "intermediate_data": "recon_data/work/data_referencia=2024-03-10",
        "error_details": {
            "error_type": "Timeout",
            "message": "prazo de 20 min esgotado",
            "stage": "base_interna",
        },
        "resume": "Re-execute From failure; arquivos_fornecedor e validacao não são refeitos.",
    }
    (tmp_path / "checkpoints" / result.run_id / "checkpoint.json").write_text(json.dumps(checkpoint))
    Ticker(instance, resources_for(notifier_for(webhook, smtp, tmp_path))).all()
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    assert webhook.posts[0]["text"] == (
        f"[CRITICAL] Conciliação de {DAY} excedeu o prazo de 20 minutos | data {DAY} | job {result.run_id} | "
        "prazo de 20 min esgotado"
    )
    body = email_body(smtp.messages[0])
    for needle in (
        f"Checkpoint: {location}\n",
        "Checkpoint status: TIMEOUT\n",
        "Linhas processadas: 600000 de 1000000 (pendentes 400000)\n",
        "Última unidade concluída: validacao\n",
        "Runbook: docs/runbook.md#timeout-20-minutes\n",  # RECON_RUNBOOK_URL unset: repo-relative
    ):
        assert needle in body, (needle, body)


def test_a_failed_plausibility_gate_alerts_once_with_its_reason_and_figures(
    instance, webhook, smtp, tmp_path
):
    result = synthetic_failure(instance, "gate")
    Ticker(instance, resources_for(notifier_for(webhook, smtp, tmp_path))).all()
    assert (
        len(webhook.posts) == 1 and len(smtp.messages) == 1
    )  # the failure sensor owns it, not alerta_checagens
    assert webhook.posts[0]["text"].startswith(
        f"[CRITICAL] Publicação de {DAY} retida pelo portão de plausibilidade | data {DAY} | job {result.run_id} | "
        "dia retido, nada publicado: ESCOPO_INTERNO_VAZIO: o arquivo tem 5 linhas válidas"
    )
    body = email_body(smtp.messages[0])
    reason = (
        "Motivo: dia retido, nada publicado: ESCOPO_INTERNO_VAZIO: o arquivo tem 5 linhas válidas e a base "
        "interna não tem nenhuma linha em escopo (base vazia, tabela errada ou só linhas de outras datas?); "
        "DIVERGENCIA_ALTA: taxa_divergencia 100.00% acima do teto 90.00% (RECON_MAX_TAXA_DIVERGENCIA). "
        "A saída anterior da data permanece.\n"
    )
    assert reason in body, body
    assert "Erro:" not in body  # Dagster's "1 blocking asset check failed" is not the cause
    for needle in (
        "Portão: ESCOPO_INTERNO_VAZIO; DIVERGENCIA_ALTA\n",
        "plausibilidade.linhas_validas: 5\n",
        "plausibilidade.linhas_base_escopo: 0\n",
        "plausibilidade.taxa_casamento: 0.00%\n",
        "plausibilidade.piso_taxa_casamento: 50.00%\n",
        "plausibilidade.taxa_divergencia: 100.00%\n",
        "plausibilidade.teto_taxa_divergencia: 90.00%\n",
        "recon/publicar_mesmo_assim=true",
        "Runbook: docs/runbook.md#plausibility-gates\n",
    ):
        assert needle in body, (needle, body)


def test_a_rejected_file_advises_fixing_and_resending_it(recon_env, instance, webhook, smtp):
    write_day(recon_env, DAY, *matching_day(DAY, 3))
    (recon_env / "ingress" / DAY / "transacoes.csv").write_text("", encoding="utf-8")  # no header at all
    result = run_day(instance, DAY)
    assert not result.success
    Ticker(instance, resources_for(notifier_for(webhook, smtp, recon_env))).all()
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    assert webhook.posts[0]["text"] == (
        f"[CRITICAL] Arquivo do fornecedor rejeitado para {DAY} | data {DAY} | job {result.run_id} | "
        "arquivos_fornecedor: HeaderError: transacoes.csv: arquivo vazio ou sem linha de cabeçalho (linha 1)."
    )
    body = email_body(smtp.messages[0])
    assert (
        "Próximo passo: Não re-execute: o mesmo arquivo será rejeitado de novo. Peça ao fornecedor o arquivo "
        f"corrigido e deposite-o em <ingress>/{DAY}/ (substituindo o rejeitado)"
    ) in body
    assert "From failure" not in body and "Runbook: docs/runbook.md#file-rejected\n" in body


def test_a_cli_run_failure_alerts_once(recon_env, webhook, smtp, tmp_path):
    """`dagster job execute` runs carry no code-location origin: run-status sensors would skip them."""
    import subprocess
    import sys
    from pathlib import Path

    home = tmp_path / "dagster_home"
    home.mkdir()
    write_day(recon_env, DAY, *matching_day(DAY, 4))
    (recon_env / "base.duckdb").unlink()  # the internal base is unreachable
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    cli = Path(sys.executable).with_name("dagster")
    command = [
        str(cli),
        "job",
        "execute",
        "-m",
        "reconciliation_assets.definitions",
        "-j",
        "daily_reconciliation",
    ]
    done = subprocess.run(
        [*command, "--tags", json.dumps({"dagster/partition": DAY})],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [run] = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.FAILURE
        ticker = Ticker(instance, resources_for(notifier_for(webhook, smtp, recon_env)))
        ticker.all()
        ticker.all()
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    assert webhook.posts[0]["text"].startswith(
        f"[CRITICAL] Falha na conciliação de {DAY} | data {DAY} | job {run.run_id}"
    )
    assert (
        "base_interna_snapshot: InternalBaseError: base interna não encontrada em" in webhook.posts[0]["text"]
    )


def test_an_alert_undelivered_while_the_webhook_is_down_is_sent_on_a_later_tick(
    instance, webhook, smtp, tmp_path
):
    result = synthetic_failure(instance, "retried")
    ticker = Ticker(instance, resources_for(notifier_for(webhook, smtp, tmp_path)))
    webhook.fail_next = 3  # tick 1: all 3 attempts answer HTTP 500 (Slack is down)
    ticker.tick(alerta_falha_execucao)
    assert webhook.posts == [] and len(smtp.messages) == 1  # e-mail went out; Slack is owed
    owed = json.loads(ticker.cursors["alerta_falha_execucao"])["pending"]
    assert [(p["alert"]["chave"], p["channels"]) for p in owed] == [(f"falha:{result.run_id}", ["slack"])]
    assert WEBHOOK_TOKEN not in ticker.cursors["alerta_falha_execucao"]
    ticker.tick(alerta_falha_execucao)  # tick 2: Slack is back
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    assert webhook.posts[0]["text"].startswith(f"[CRITICAL] Falha na conciliação de {DAY}")
    ticker.tick(alerta_falha_execucao)  # tick 3: nothing more on either channel
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    assert "pending" not in json.loads(ticker.cursors["alerta_falha_execucao"])


def test_undelivered_alerts_are_bounded_and_expire_after_24_hours(webhook, smtp, tmp_path):
    from sensors.events import MAX_PENDING, PENDING_MAX_AGE_S, AlertCursor

    notifier = notifier_for(webhook, smtp, tmp_path, smtp_host="", max_attempts=1)
    cursor = AlertCursor()
    webhook.fail_next = MAX_PENDING + 10
    for i in range(MAX_PENDING + 10):
        cursor.send_once(
            notifier, Alert(tipo="checagem", severidade="HIGH", titulo=f"a{i}", chave=f"k{i}"), LOG
        )
    restored = AlertCursor.load(cursor.dump())
    assert len(restored.pending) == MAX_PENDING and restored.pending[0]["alert"]["chave"] == "k10"
    restored.pending[0]["since"] -= PENDING_MAX_AGE_S + 1  # the oldest is past 24 h: dropped, not sent
    assert restored.retry_pending(notifier, LOG) == MAX_PENDING - 1
    assert len(webhook.posts) == MAX_PENDING - 1 and restored.pending == []


def test_every_runbook_anchor_an_alert_links_to_exists():
    import re
    from pathlib import Path

    from sensors.alerts import RUNBOOK_ANCHORS

    text = (Path(__file__).parents[1] / "docs" / "runbook.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', text))
    assert set(RUNBOOK_ANCHORS) <= anchors, set(RUNBOOK_ANCHORS) - anchors
    assert Notifier().runbook_link("file-rejected") == "docs/runbook.md#file-rejected"
    assert Notifier(runbook_url=RUNBOOK).runbook_link("timeout-20-minutes") == f"{RUNBOOK}#timeout-20-minutes"
