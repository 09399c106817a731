"""The alerts' words, from hand-made facts: pure builders, no Dagster run, no instance, no clock.

``tests/test_alerts.py`` drives real runs into each incident and reads what real receivers got;
these pin every field of the ``Alert`` each builder makes (``campos`` in order: the e-mail lists
them as built) and run in milliseconds.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from dagster._utils.error import SerializableErrorInfo

from reconciliation_assets.contract import ORIGIN_TAG, PARTITION_TAG, SAFETY_NET_ORIGIN
from resources.notify import Alert, Notifier
from resources.settings import Deadlines, ReconRules
from sensors.alert_facts import (
    CheckFacts,
    FailureFacts,
    FreshnessFacts,
    MaterializationFacts,
    RunFacts,
    SlaFacts,
    StepError,
    SuccessFacts,
    root_cause,
)
from sensors.alert_messages import (
    check_alert,
    failure_alert,
    freshness_alert,
    sla_alert,
    sla_check_level,
    sla_level,
    success_alert,
)

DAY = "2024-03-10"
RUN_ID = "672c247f-60f0-430a-b682-5127b48eee15"
START = "2024-03-11T06:10:00-03:00"
END = "2024-03-11T06:14:30-03:00"
SP = ZoneInfo("America/Sao_Paulo")
RULES = ReconRules(sla_minutes=20, sla_warn_minutes=18)
DEADLINES = Deadlines(
    timezone="America/Sao_Paulo", file_deadline="07:00", divergences_deadline="07:20", days_after=1
)


def run(**tags: str) -> RunFacts:
    return RunFacts(
        run_id=RUN_ID,
        job_name="daily_reconciliation",
        tags={PARTITION_TAG: DAY, **tags},
        start=START,
        end=END,
    )


def campos(alert: Alert) -> list[tuple[str, object]]:
    return list(alert.campos.items())


# ---- a failed run ------------------------------------------------------------------------------------
def test_root_cause_follows_the_chain_past_dagsters_wrappers():
    error = SerializableErrorInfo(
        message="dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op\n",
        stack=[],
        cls_name="DagsterExecutionStepExecutionError",
        cause=SerializableErrorInfo(
            message="RetryRequested: Exceeded max_retries of 3\n",
            stack=[],
            cls_name="RetryRequested",
            context=SerializableErrorInfo(
                message="resources.internal_base.InternalBaseUnavailable: base interna indisponível: "
                "conexão recusada (postgresql://recon:***@db:5432/recon)\nlinha 2\n",
                stack=[],
                cls_name="InternalBaseUnavailable",
            ),
        ),
    )
    kind, line, chain = root_cause(error)
    assert kind == "InternalBaseUnavailable"
    assert line == "base interna indisponível: conexão recusada (postgresql://recon:***@db:5432/recon)"
    assert chain == (
        "Error occurred while executing op",
        "RetryRequested: Exceeded max_retries of 3",
        "base interna indisponível: conexão recusada (postgresql://recon:***@db:5432/recon)",
    )


def test_a_failure_names_the_root_cause_and_the_checkpoint():
    facts = FailureFacts(
        run=run(**{ORIGIN_TAG: "ingresso", "dagster/retry_number": "1"}),
        run_failure_message="Execution of run for \"daily_reconciliation\" failed. Steps failed: ['base_interna_snapshot'].",
        step_errors=(
            StepError(
                step_key="base_interna_snapshot",
                error_type="InternalBaseUnavailable",
                message="base interna indisponível: conexão recusada",
                chain=("Exceeded max_retries of 3", "base interna indisponível: conexão recusada"),
                user_failure=False,
            ),
        ),
        failed_checks=(
            # Not published: not another incident of this run.
            CheckFacts("taxa_divergencia", "divergencias", "taxa 12%", "WARN", False, {"publicada": False}),
            CheckFacts("taxa_quarentena", "quarentena", "taxa 7%", "ERROR", False, {"taxa": 0.07}),
        ),
        checkpoint={
            "status": "FAILED",
            "checkpoint_location": f"s3://recon-prod/checkpoints/{RUN_ID}/",
            "progress": {
                "processed_lines": 600000,
                "total_lines": 1000000,
                "pending_lines": 400000,
                "last_completed_unit": "validacao",
            },
            "error_details": {"stage": "base_interna_snapshot", "message": "conexão recusada"},
            "resume": f"recon resume {RUN_ID}",
        },
    )
    alert = failure_alert(facts)
    assert alert == Alert(
        tipo="falha_execucao",
        severidade="CRITICAL",
        titulo=f"Falha na conciliação de {DAY}",
        motivo="base_interna_snapshot: InternalBaseUnavailable: base interna indisponível: conexão recusada",
        data_referencia=DAY,
        job_id=RUN_ID,
        inicio=START,
        fim=END,
        campos=alert.campos,
        proximo_passo=(
            "Re-execute a partir da falha (From failure) na UI; o checkpoint lista as etapas concluídas."
        ),
        checkpoint=True,
        chave=f"falha:{RUN_ID}",
        runbook="reconciliation-failure",
        checkpoint_location=f"s3://recon-prod/checkpoints/{RUN_ID}/",
    )
    assert campos(alert) == [
        ("Job", "daily_reconciliation"),
        ("Origem", "ingresso"),
        ("Etapa com falha", "base_interna_snapshot"),
        ("Erro", "InternalBaseUnavailable: base interna indisponível: conexão recusada"),
        ("Outras checagens com falha", "taxa_quarentena (ERROR)"),
        ("Tentativa", "2"),
        ("Checkpoint status", "FAILED"),
        ("Linhas processadas", "600000 de 1000000 (pendentes 400000)"),
        ("Última unidade concluída", "validacao"),
        ("Etapa no checkpoint", "base_interna_snapshot"),
        ("Retomar", f"recon resume {RUN_ID}"),
    ]


GATE_DETAIL = (
    "dia retido, nada publicado: ESCOPO_INTERNO_VAZIO: o arquivo tem 5 linhas válidas e a base interna não "
    "tem nenhuma linha em escopo; DIVERGENCIA_ALTA: taxa_divergencia 100.00% acima do teto 90.00%"
)


def test_a_gate_failure_is_critical_with_its_codes_and_figures():
    gate = CheckFacts(
        check_name="plausibilidade",
        asset="divergencias",
        description=GATE_DETAIL,
        severity="ERROR",
        blocking=True,
        metadata={
            "motivo": "ESCOPO_INTERNO_VAZIO; DIVERGENCIA_ALTA",
            "detalhe": GATE_DETAIL,
            "linhas_validas": 5,
            "linhas_base_escopo": 0,
            "casadas": 0,
            "taxa_casamento": 0.0,
            "piso_taxa_casamento": 0.5,
            "taxa_divergencia": 1.0,
            "teto_taxa_divergencia": 0.9,
            "liberado_por_operador": False,
            "entradas_iguais_a_publicada": "sem publicação anterior",
            "severidade_alerta": "CRITICAL",
        },
    )
    facts = FailureFacts(
        run=run(),
        step_errors=(
            StepError(
                "divergencias", "DagsterAssetCheckFailedError", "1 blocking asset check failed", (), False
            ),
        ),
        failed_checks=(gate,),
    )
    alert = failure_alert(facts)
    assert alert == Alert(
        tipo="plausibilidade",
        severidade="CRITICAL",
        titulo=f"Publicação de {DAY} retida pelo portão de plausibilidade",
        motivo=f"{GATE_DETAIL}. A saída anterior da data permanece.",
        data_referencia=DAY,
        job_id=RUN_ID,
        inicio=START,
        fim=END,
        campos=alert.campos,
        proximo_passo=(
            "Confira a origem dos dados (arquivo e base interna) antes de publicar; se o dia é real, "
            "publique deliberadamente com a tag recon/publicar_mesmo_assim=true (fica no manifesto)."
        ),
        chave=f"falha:{RUN_ID}",
        runbook="plausibility-gates",
        checkpoint_location=None,
    )
    assert campos(alert) == [
        ("Job", "daily_reconciliation"),
        ("Etapa com falha", "divergencias"),  # no "Erro": Dagster's check failure says nothing more
        ("Portão", "ESCOPO_INTERNO_VAZIO; DIVERGENCIA_ALTA"),
        ("plausibilidade.linhas_validas", "5"),
        ("plausibilidade.linhas_base_escopo", "0"),
        ("plausibilidade.casadas", "0"),
        ("plausibilidade.taxa_casamento", "0.00%"),
        ("plausibilidade.piso_taxa_casamento", "50.00%"),
        ("plausibilidade.taxa_divergencia", "100.00%"),
        ("plausibilidade.teto_taxa_divergencia", "90.00%"),
        ("plausibilidade.liberado_por_operador", "não"),
        ("plausibilidade.entradas_iguais_a_publicada", "sem publicação anterior"),
    ]


def test_a_timeout_wins_over_the_step_error_and_keeps_the_resume():
    facts = FailureFacts(
        run=run(**{"dagster/max_runtime": "1200"}),
        run_failure_message="Exceeded maximum runtime of 1200 seconds.",
        checkpoint={
            "status": "TIMEOUT",
            "resume": "recon resume x",
            "error_details": {"message": "prazo de 20 min esgotado\nmais"},
        },
    )
    alert = failure_alert(facts)
    assert (alert.tipo, alert.severidade, alert.titulo, alert.motivo, alert.runbook) == (
        "tempo_esgotado",
        "CRITICAL",
        f"Conciliação de {DAY} excedeu o prazo de 20 minutos",
        "prazo de 20 min esgotado",
        "timeout-20-minutes",
    )
    assert campos(alert) == [
        ("Job", "daily_reconciliation"),
        ("Checkpoint status", "TIMEOUT"),
        ("Retomar", "recon resume x"),
    ]


MISSING = "Nenhum arquivo *.csv para 2024-03-10 em s3://fornecedor/entrada/2024-03-10."


def test_a_missing_file_by_the_deadline_drops_the_resume():
    facts = FailureFacts(
        run=run(**{ORIGIN_TAG: SAFETY_NET_ORIGIN}),
        step_errors=(StepError("arquivos_fornecedor", "Failure", MISSING, (MISSING,), True),),
        checkpoint={"status": "FAILED", "resume": "recon resume x"},
    )
    alert = failure_alert(facts)
    assert (alert.tipo, alert.titulo, alert.motivo, alert.runbook) == (
        "arquivo_ausente",
        f"Arquivo do fornecedor ausente para {DAY} (até o prazo)",
        f"arquivos_fornecedor: Failure: {MISSING}",
        "file-missing",
    )
    assert alert.proximo_passo == (
        f"Cobre o arquivo do fornecedor e deposite-o em <ingress>/{DAY}/; o sensor de ingresso "
        "inicia a execução (ou materialize a partição na UI)."
    )
    assert campos(alert) == [
        ("Job", "daily_reconciliation"),
        ("Origem", SAFETY_NET_ORIGIN),
        ("Etapa com falha", "arquivos_fornecedor"),
        ("Erro", f"Failure: {MISSING}"),
        ("Checkpoint status", "FAILED"),
    ]


def test_a_rejected_file_says_not_to_re_execute():
    reason = "transacoes.csv: arquivo vazio ou sem linha de cabeçalho (linha 1)."
    facts = FailureFacts(
        run=run(), step_errors=(StepError("arquivos_fornecedor", "HeaderError", reason, (reason,), False),)
    )
    # Refused by the file step as a dg.Failure, or any step whose chain says "Arquivo rejeitado".
    facts_failure = FailureFacts(
        run=run(), step_errors=(StepError("arquivos_fornecedor", "Failure", reason, (reason,), True),)
    )
    alert = failure_alert(facts_failure)
    assert (alert.tipo, alert.severidade, alert.titulo, alert.motivo, alert.runbook) == (
        "arquivo_rejeitado",
        "CRITICAL",
        f"Arquivo do fornecedor rejeitado para {DAY}",
        f"arquivos_fornecedor: Failure: {reason}",
        "file-rejected",
    )
    assert alert.proximo_passo.startswith("Não re-execute: o mesmo arquivo será rejeitado de novo.")
    assert failure_alert(facts).tipo == "falha_execucao"  # not a dg.Failure, no "Arquivo rejeitado"


# ---- a day published ---------------------------------------------------------------------------------
SUMMARY = {
    "linhas_csv": 1000000,
    "linhas_validas": 998991,
    "linhas_quarentena": 1009,
    "tipo_1": 49950,
    "tipo_2": 29970,
    "tipo_3_valor": 10000,
    "tipo_3_data": 5000,
    "tipo_3_fornecedor": 3000,
    "tipo_3_ativo": 2000,
    "tipo_3_nome": 492,
    "taxa_divergencia": 0.0971,
    "conciliadas_sem_divergencia": 899011,
    "diferenca_nao_explicada": 0.0,
    "sla_cumprido": True,
}
BREAKS = {
    "novas": 12,
    "recorrentes": 3,
    "abertas": 340,
    "abertas_mais_7_dias": 20,
    "resolvidas": 5,
    "valor_em_aberto": 1234567.891,
    "datas_posteriores_desatualizadas": "2024-03-11, 2024-03-12",
}
REPORT = "s3://recon-prod/relatorios/2024-03-10/relatorio_diario.html"


def test_a_success_lists_the_kpis_breaks_and_links():
    facts = SuccessFacts(
        run=run(**{ORIGIN_TAG: "ingresso"}),
        summary=SUMMARY,
        breaks=BREAKS,
        report=REPORT,
        checks=(
            CheckFacts("contagem_linhas", "transacoes_validadas", "", "ERROR", True, {}, passed=True),
            CheckFacts(
                "sla_publicacao", "divergencias", "", "ERROR", False, {"minutos_ate_publicacao": 6.44}, True
            ),
        ),
    )
    alert = success_alert(facts)
    assert alert == Alert(
        tipo="sucesso",
        severidade="INFO",
        titulo=f"Conciliação de {DAY} publicada",
        motivo="Todas as checagens passaram.",
        data_referencia=DAY,
        job_id=RUN_ID,
        inicio=START,
        fim=END,
        campos=alert.campos,
        checkpoint=False,
        chave=f"sucesso:{RUN_ID}",
        runbook="daily-monitoring",
        relatorio=REPORT,
        painel=True,
    )
    assert campos(alert) == [
        ("Linhas do arquivo", "1.000.000"),
        ("Validadas", "998.991"),
        ("Quarentena", "1.009 (0.10%)"),
        ("Divergências", "100.412"),
        ("TIPO_1 / TIPO_2 / TIPO_3_*", "49950 / 29970 / 20492"),
        ("Taxa de divergência", "9.71%"),
        ("Conciliadas sem divergência", "899.011"),
        ("Diferença não explicada", "0.00"),
        ("SLA cumprido", "sim"),
        (
            "Pendências",
            "12 novas, 3 recorrentes, 340 em aberto (20 há mais de 7 dias), 5 resolvidas; R$ 1.234.567,89 em aberto",
        ),
        ("Datas posteriores desatualizadas", "2024-03-11, 2024-03-12 (re-execute em ordem)"),
        ("Chegada → publicação", "6.4 min"),
        ("Origem", "ingresso"),
    ]
    # The links as the e-mail shows them (the dashboard's only with RECON_PAINEL_URL set).
    body = Notifier(painel_url="https://painel.empresa.example").render(alert).body
    assert (
        f"\n\nRelatório: {REPORT}\nPainel: https://painel.empresa.example/?inicio={DAY}&fim={DAY}\n" in body
    )
    assert "Painel:" not in Notifier().render(alert).body


def test_a_success_with_a_failed_check_is_medium_with_alerts():
    facts = SuccessFacts(
        run=run(),
        summary={**SUMMARY, "sla_cumprido": False},
        checks=(CheckFacts("taxa_divergencia", "divergencias", "", "WARN", False, {}),),
    )
    alert = success_alert(facts)
    assert (alert.severidade, alert.titulo, alert.motivo, alert.relatorio) == (
        "MEDIUM",
        f"Conciliação de {DAY} publicada (com alertas)",
        "Publicada; veja as checagens com falha.",
        None,
    )
    assert campos(alert)[-2:] == [("SLA cumprido", "não"), ("Checagens com falha", "taxa_divergencia (WARN)")]


# ---- a failed non-blocking check -------------------------------------------------------------------------
def test_a_check_alert_takes_its_severity_and_reason_from_the_metadata():
    check = CheckFacts(
        check_name="taxa_quarentena",
        asset="quarentena",
        description="taxa de quarentena 7.00% acima de 5.00%",
        severity="ERROR",
        blocking=False,
        metadata={"taxa_quarentena": 0.07, "limite": 0.05, "severidade_alerta": "CRITICAL", "tabela": "a\nb"},
        partition=DAY,
    )
    alert = check_alert(check, run())
    assert alert == Alert(
        tipo="checagem",
        severidade="CRITICAL",
        titulo=f"Checagem taxa_quarentena falhou em quarentena ({DAY})",
        motivo="taxa de quarentena 7.00% acima de 5.00%",
        data_referencia=DAY,
        job_id=RUN_ID,
        inicio=START,
        fim=END,
        campos={
            "Checagem": "quarentena/taxa_quarentena",
            "Resultado": "falhou (ERROR)",
            "taxa_quarentena": "7.00%",
            "limite": "5.00%",
        },
        proximo_passo="Abra a checagem na UI (aba Checks do ativo) para os detalhes e exemplos.",
        chave=f"checagem:{RUN_ID}:quarentena:taxa_quarentena:{DAY}",
        runbook="failed-check",
    )
    late = CheckFacts("publicada_no_prazo", "divergencias", "", "ERROR", False, {}, partition=DAY)
    alert = check_alert(late, run())
    assert (alert.severidade, alert.motivo, alert.chave, alert.runbook) == (
        "HIGH",
        "a checagem não passou (veja os metadados)",
        f"checagem:divergencias:publicada_no_prazo:{DAY}",  # once per date, whichever run
        "late-date",
    )


# ---- the SLA -------------------------------------------------------------------------------------------
ARRIVAL = datetime(2024, 3, 11, 6, 0, tzinfo=SP)


@pytest.mark.parametrize(
    ("minutes", "level"), [(17.9, None), (18.0, None), (18.01, "aviso"), (20.0, "aviso"), (20.01, "estouro")]
)
def test_sla_levels_start_past_the_warning_and_the_limit(minutes, level):
    assert sla_level(minutes, RULES) == level


def test_an_sla_warning_while_the_run_is_still_going():
    facts = SlaFacts(
        run=RunFacts(RUN_ID, tags={PARTITION_TAG: DAY}, start=START),
        arrival=ARRIVAL,
        minutes=18.46,
        published=False,
    )
    alert = sla_alert(facts, "aviso", RULES)
    assert alert == Alert(
        tipo="sla",
        severidade="HIGH",
        titulo=f"SLA em risco em {DAY}",
        motivo=(
            f"divergências de {DAY} ainda não publicadas, 18.5 min após a chegada do arquivo "
            "(aviso 18 min, limite 20 min)."
        ),
        data_referencia=DAY,
        job_id=RUN_ID,
        inicio=START,
        fim=None,
        campos={
            "Arquivo chegou em": "2024-03-11T06:00:00-03:00",
            "Prazo do SLA": "2024-03-11T06:20:00-03:00",
            "Minutos desde a chegada": "18.5",
            "Publicada": "não",
        },
        proximo_passo="Acompanhe a execução; se travada, cancele e re-execute a partir da falha.",
        chave=f"sla:{DAY}:{int(ARRIVAL.timestamp())}:aviso",
        runbook="timeout-20-minutes",
    )


def test_an_sla_breach_measured_by_the_check():
    check = CheckFacts(
        "sla_publicacao",
        "divergencias",
        "",
        "ERROR",
        False,
        {"nivel": "estouro", "minutos_ate_publicacao": 23.4},
    )
    facts = SlaFacts(run=run(), arrival=ARRIVAL, minutes=23.4, published=True)
    alert = sla_alert(facts, sla_check_level(check), RULES)
    assert (alert.severidade, alert.titulo, alert.motivo, alert.proximo_passo, alert.chave) == (
        "CRITICAL",
        f"SLA estourado em {DAY}",
        f"divergências de {DAY} publicadas 23.4 min após a chegada do arquivo (aviso 18 min, limite 20 min).",
        "Registre o atraso; verifique volume do arquivo e a base interna (pool base_interna).",
        f"sla:{DAY}:{int(ARRIVAL.timestamp())}:estouro",  # keyed by the arrival: a re-run does not page again
    )
    assert (alert.inicio, alert.fim) == (START, END)
    assert alert.campos["Minutos desde a chegada"] == "23.4" and alert.campos["Publicada"] == "sim"
    assert (
        sla_check_level(CheckFacts("sla_publicacao", "divergencias", "", "WARN", False, {"nivel": "aviso"}))
        == "aviso"
    )


# ---- freshness ------------------------------------------------------------------------------------------
CHANGED = datetime(2024, 3, 11, 7, 20, 5, tzinfo=SP).timestamp()
LAST = MaterializationFacts(
    timestamp=datetime(2024, 3, 10, 7, 5, tzinfo=SP).timestamp(), partition="2024-03-09", run_id="r-9"
)


def test_late_divergences_are_critical_and_name_the_missed_date():
    facts = FreshnessFacts(
        "divergencias", previous_state="PASS", new_state="FAIL", changed_at=CHANGED, latest=LAST
    )
    assert facts.relevant and not facts.recovered
    alert = freshness_alert(facts, DEADLINES)
    assert alert == Alert(
        tipo="frescor",
        severidade="CRITICAL",
        titulo="divergencias atrasado: 2024-03-10 não publicado até 07:20",
        motivo=(
            "A política de frescor de divergencias está FAIL: nenhuma materialização na janela de 24 h até o "
            "prazo 07:20 (America/Sao_Paulo)."
        ),
        data_referencia="2024-03-10",
        job_id="r-9",
        campos=alert.campos,
        proximo_passo=(
            "Verifique se o arquivo de 2024-03-10 chegou e se há execução em andamento; "
            "a rede de segurança inicia a execução no prazo do arquivo."
        ),
        checkpoint=False,
        chave=f"frescor:divergencias:FAIL:{int(CHANGED)}",
        runbook="late-date",
    )
    assert campos(alert) == [
        ("Ativo", "divergencias"),
        ("Estado", "PASS → FAIL"),
        ("Prazo diário", "07:20 America/Sao_Paulo (D+1)"),
        ("Mudou em", "2024-03-11T07:20:05-03:00"),
        ("Última materialização", "2024-03-10T07:05:00-03:00 (partição 2024-03-09)"),
    ]


def test_a_late_file_is_high_and_a_recovery_is_info():
    before_deadline = datetime(
        2024, 3, 11, 6, 59, tzinfo=SP
    ).timestamp()  # still D-1's deadline that was missed
    late = freshness_alert(
        FreshnessFacts("arquivos_fornecedor", "UNKNOWN", "WARN", before_deadline), DEADLINES
    )
    assert (late.severidade, late.titulo, late.data_referencia, late.job_id, late.runbook) == (
        "HIGH",
        "arquivos_fornecedor atrasado: arquivo de 2024-03-09 não processado até 07:00",
        "2024-03-09",
        None,
        "file-missing",
    )
    assert late.campos["Última materialização"] == "nenhuma"
    facts = FreshnessFacts("divergencias", "FAIL", "PASS", CHANGED, LAST)
    assert facts.recovered and facts.relevant
    assert not FreshnessFacts("divergencias", "UNKNOWN", "PASS", CHANGED).relevant
    back = freshness_alert(facts, DEADLINES)
    assert (back.tipo, back.severidade, back.titulo, back.motivo, back.chave, back.runbook) == (
        "frescor",
        "INFO",
        "divergencias voltou a ficar em dia",
        "divergencias foi materializado e a política de frescor voltou a PASS.",
        f"frescor:divergencias:PASS:{int(CHANGED)}",
        "daily-monitoring",
    )
    assert back.proximo_passo == "" and back.checkpoint is False


def test_a_failed_audit_run_says_the_date_stays_published():
    facts = FailureFacts(
        run=RunFacts(
            run_id=RUN_ID, job_name="auditoria_expectativas", tags={PARTITION_TAG: DAY}, start=START, end=END
        ),
        step_errors=(
            StepError(
                "divergencias_expectativas_divergencias",
                "EndpointConnectionError",
                "Could not connect to the endpoint URL",
                ("Could not connect to the endpoint URL",),
                False,
            ),
        ),
    )
    alert = failure_alert(facts)
    assert (alert.tipo, alert.severidade, alert.runbook) == ("falha_auditoria", "HIGH", "failed-check")
    assert alert.titulo == f"Auditoria Great Expectations de {DAY} não rodou"
    assert alert.motivo == (
        "divergencias_expectativas_divergencias: EndpointConnectionError: Could not connect to the endpoint URL. "
        "A data continua publicada: o contrato foi verificado em todas as linhas antes da publicação."
    )
    assert alert.proximo_passo == (
        f"Corrija a causa e execute de novo o job auditoria_expectativas com a tag dagster/partition={DAY}."
    )
    assert alert.chave == f"falha:{RUN_ID}"
