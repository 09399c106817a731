"""Structured stage logs, masking, redaction and the design's thresholds as metadata."""

from __future__ import annotations

import json

import dagster as dg
import polars as pl

from reconciliation_assets.observability import mask_nome, mask_nome_expr, redact, threshold_metadata
from tests.receivers import local_day, matching_day, pin_clock, run_day, write_day

pytest_plugins = ["tests.receivers"]

STAGES = [
    "arquivos_fornecedor",
    "validacao",
    "base_interna_snapshot",
    "divergencias",
    "resumo_conciliacao",
    "relatorio_diario",
]


def test_nome_keeps_only_the_last_word_in_python_and_in_polars():
    names = ["José da Silva", "  Ana  Lima ", "Souza; Filho", "Cher", "", None]
    expected = ["***Silva", "***Lima", "***Filho", "***Cher", "***", "***"]
    assert [mask_nome(n) for n in names] == expected
    frame = pl.DataFrame({"nome": names}).select(mask_nome_expr())
    assert frame["nome"].to_list() == expected


def test_redact_removes_secrets_and_url_credentials():
    text = (
        "falhou https://hooks.slack.com/services/T1/B2/abcdEFGH ; postgresql://recon:Senha123@db:5432/x "
        "?token=xyz&password=p4ss"
    )
    out = redact(text, ["T1/B2/abcdEFGH", "naousado"])
    assert "abcdEFGH" not in out and "Senha123" not in out and "xyz" not in out and "p4ss" not in out
    assert "postgresql://recon:***@db:5432/x" in out


def test_thresholds_give_the_design_severities():
    meta = threshold_metadata(
        taxa_quarentena=0.051,
        quarantine_rate_max=0.05,
        taxa_divergencia=0.10,
        divergence_rate_max=0.10,
        minutos_processamento=18.5,
        processing_warn_minutes=18,
    )
    assert meta["severidade_taxa_quarentena"] == "CRITICAL"
    assert meta["severidade_taxa_divergencia"] == "OK"  # the limit itself is fine
    assert meta["severidade_tempo_processamento"] == "HIGH"


def test_each_stage_logs_one_json_line_and_plots_numeric_metrics(recon_env, instance, monkeypatch):
    day = local_day(pin_clock(monkeypatch))
    lines, base = matching_day(day, 30, nome="Beatriz Nóbrega")
    write_day(recon_env, day, lines, base[:-3])  # 3 TIPO_1
    result = run_day(instance, day)
    assert result.success
    records = []
    for entry in instance.all_logs(result.run_id):
        if entry.user_message.startswith("{"):
            records.append(json.loads(entry.user_message))
    stages = [r for r in records if r.get("evento") == "etapa"]
    assert [r["etapa"] for r in stages] == STAGES
    for record in stages:
        assert record["run_id"] == result.run_id and record["data_referencia"] == day
        assert isinstance(record["duracao_s"], float) and record["contagens"]
    by_stage = {r["etapa"]: r for r in stages}
    assert by_stage["validacao"]["contagens"] == {
        "linhas_csv": 30,
        "linhas_validas": 30,
        "linhas_quarentena": 0,
        "linhas_em_branco": 0,
    }
    assert (
        by_stage["divergencias"]["contagens"]["tipo_1"] == 3 and by_stage["divergencias"]["publicada"] is True
    )
    assert "Nóbrega" not in json.dumps(records, ensure_ascii=False)

    mats = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    div = mats["divergencias"]
    assert isinstance(div["taxa_divergencia"], dg.FloatMetadataValue)
    assert isinstance(div["minutos_processamento"], dg.FloatMetadataValue)
    assert div["limite_minutos_processamento"].value == 18.0
    assert div["severidade_tempo_processamento"].value == "OK"
    assert div["severidade_taxa_divergencia"].value == "OK"  # 3/30 = 10%: at the limit
    assert mats["quarentena"]["limite_taxa_quarentena"].value == 0.05
    for asset in STAGES[:1] + [
        "transacoes_validadas",
        "base_interna_snapshot",
        "divergencias",
        "resumo_conciliacao",
    ]:
        assert isinstance(mats[asset]["duracao_s"], dg.FloatMetadataValue), asset
