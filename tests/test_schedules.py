"""The safety-net schedule, and deadlines configured from the environment at definitions load."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from reconciliation_assets.definitions import build_defs
from schedules.safety_net import SCHEDULE_NAME

pytest_plugins = ["tests.receivers"]

SP = ZoneInfo("America/Sao_Paulo")
DAY = "2024-03-10"
AT_DEADLINE = datetime(2024, 3, 11, 7, 0, tzinfo=SP)


def tick(instance, when=AT_DEADLINE):
    schedule = build_defs().resolve_schedule_def(SCHEDULE_NAME)
    return schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=when))


def test_a_date_never_processed_by_its_deadline_gets_a_run(instance):
    request = tick(instance)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == DAY
    assert request.run_key == f"{SCHEDULE_NAME}:{DAY}"  # a repeated tick cannot start a second run
    assert request.tags["recon/origem"] == "rede_de_seguranca"
    assert request.tags["recon/prazo_arquivo"] == "2024-03-11T07:00:00-03:00"


def test_a_processed_date_is_left_alone(instance):
    instance.report_runless_asset_event(dg.AssetMaterialization("arquivos_fornecedor", partition=DAY))
    assert isinstance(tick(instance), dg.SkipReason)
    # another date's file does not count for D
    assert isinstance(tick(instance, datetime(2024, 3, 12, 7, 0, tzinfo=SP)), dg.RunRequest)


def test_a_run_under_way_is_not_doubled(instance):
    from dagster._core.test_utils import create_run_for_test

    create_run_for_test(
        instance,
        job_name="daily_reconciliation",
        status=dg.DagsterRunStatus.STARTED,
        tags={"dagster/partition": DAY},
    )
    skip = tick(instance)
    assert isinstance(skip, dg.SkipReason) and "em andamento" in skip.skip_message


def test_dates_before_the_first_partition_are_skipped(instance):
    assert isinstance(tick(instance, datetime(2023, 6, 1, 7, 0, tzinfo=SP)), dg.SkipReason)


def test_deadlines_come_from_the_environment_at_load(monkeypatch):
    monkeypatch.setenv("RECON_FILE_DEADLINE", "06:30")
    monkeypatch.setenv("RECON_DIVERGENCES_DEADLINE", "8:05")
    defs = build_defs()
    schedule = defs.resolve_schedule_def(SCHEDULE_NAME)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 6 * * *", "America/Sao_Paulo")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    graph = defs.resolve_asset_graph()
    file_policy = graph.get(dg.AssetKey("arquivos_fornecedor")).freshness_policy
    div_policy = graph.get(dg.AssetKey("divergencias")).freshness_policy
    assert (file_policy.deadline_cron, file_policy.timezone) == ("30 6 * * *", "America/Sao_Paulo")
    assert div_policy.deadline_cron == "5 8 * * *"
    assert graph.get(dg.AssetKey("resumo_conciliacao")).freshness_policy is None
    assert defs.resources["deadlines"].deadline(DAY).isoformat() == "2024-03-11T08:05:00-03:00"


def test_an_invalid_deadline_fails_at_load(monkeypatch):
    monkeypatch.setenv("RECON_DIVERGENCES_DEADLINE", "25:00")
    with pytest.raises(Exception, match="prazo inválido"):
        build_defs()


def test_every_alert_sensor_and_the_schedule_are_registered_and_running():
    defs = build_defs()
    names = {s.name: s for s in defs.sensors}
    for name in (
        "alerta_falha_execucao",
        "alerta_dia_conciliado",
        "alerta_checagens",
        "alerta_sla",
        "alerta_frescor",
    ):
        assert names[name].default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_schedule_def(SCHEDULE_NAME).job.name == "daily_reconciliation"
