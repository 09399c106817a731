"""Every RECON_* variable of the code location, set to its default, to another valid value and to an
invalid one: the definitions load, the EnvVars resolve through Dagster's own resource set-up, and a
bad value stops the load with one message naming the variable and what it accepts.
"""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from deploy import render_instance_config as render
from reconciliation_assets.definitions import build_defs
from resources.env import ConfigurationError

ROOT = Path(__file__).resolve().parents[1]

# variable -> (documented default, a valid non-default value, the resource field it lands in,
#              the resolved value expected for the non-default, an invalid value or None)
VARIABLES: dict[str, tuple[str, str, tuple[str, str], object, str | None]] = {
    "RECON_INGRESS_URI": (
        "recon_data/ingress",
        "/srv/entrada",
        ("storage", "ingress_uri"),
        "/srv/entrada",
        None,
    ),
    "RECON_OUTPUT_URI": (
        "recon_data/output",
        "s3://saida/recon",
        ("storage", "output_uri"),
        "s3://saida/recon",
        None,
    ),
    "RECON_CHECKPOINT_URI": (
        "recon_data/checkpoints",
        "s3://saida/ck",
        ("storage", "checkpoint_uri"),
        "s3://saida/ck",
        None,
    ),
    "RECON_WORK_DIR": (
        "recon_data/work",
        "/tmp/recon-work",
        ("storage", "work_dir"),
        "/tmp/recon-work",
        None,
    ),
    "RECON_S3_SSE": ("AES256", "aws:kms", ("storage", "s3_sse"), "aws:kms", "KMS"),
    "RECON_S3_SSE_KMS_KEY_ID": ("x", "alias/recon", ("storage", "s3_sse_kms_key_id"), "alias/recon", None),
    "RECON_INGRESS_LOOKBACK_DAYS": ("3", "10", ("storage", "ingress_lookback_days"), 10, "99"),
    "RECON_INTERNAL_DB_URL": (
        "duckdb:///recon_data/base_interna.duckdb",
        "postgresql://recon:s3gredo@db:5432/financas",
        ("internal_base", "db_url"),
        "postgresql://recon:s3gredo@db:5432/financas",
        None,
    ),
    "RECON_INTERNAL_TABLE": (
        "transacoes_internas",
        "fin.transacoes",
        ("internal_base", "table"),
        "fin.transacoes",
        None,
    ),
    "RECON_INTERNAL_DB_STATEMENT_TIMEOUT_S": (
        "600",
        "120",
        ("internal_base", "statement_timeout_s"),
        120,
        "dez",
    ),
    "RECON_INTERNAL_DB_CONNECT_TIMEOUT_S": ("10", "5", ("internal_base", "connect_timeout_s"), 5, "0"),
    "RECON_MAX_AGE_DAYS": ("31", "45", ("rules", "max_age_days"), 45, "-1"),
    "RECON_SEVERITY_HIGH": ("1000.00", "2500.50", ("rules", "severity_high"), "2500.50", "mil"),
    "RECON_SEVERITY_MEDIUM": ("1.00", "0.50", ("rules", "severity_medium"), "0.50", "-1"),
    "RECON_SLA_MINUTES": ("20", "30", ("rules", "sla_minutes"), 30, "0"),
    "RECON_SLA_WARN_MINUTES": ("18", "25", ("rules", "sla_warn_minutes"), 25, "x"),
    "RECON_QUARANTINE_RATE_MAX": ("0.05", "0.2", ("rules", "quarantine_rate_max"), 0.2, "5%"),
    "RECON_DIVERGENCE_RATE_MAX": ("0.10", "0.3", ("rules", "divergence_rate_max"), 0.3, "1.5"),
    "RECON_MIN_TAXA_CASAMENTO": ("0.50", "0.8", ("rules", "min_taxa_casamento"), 0.8, "1.2"),
    "RECON_MAX_TAXA_DIVERGENCIA": ("0.50", "0.35", ("rules", "max_taxa_divergencia"), 0.35, "-0.1"),
    "RECON_RETRY_BASE_SECONDS": ("30", "10", ("rules", "retry_base_seconds"), 10.0, "-5"),
    "RECON_MAX_RETRIES": ("3", "2", ("rules", "max_retries"), 2, "11"),
    "RECON_FILE_DEADLINE": ("07:00", "6:30", ("deadlines", "file_deadline"), "06:30", "25:00"),
    "RECON_DIVERGENCES_DEADLINE": ("07:20", "08:05", ("deadlines", "divergences_deadline"), "08:05", "7h20"),
    "RECON_DEADLINE_DAYS_AFTER": ("1", "2", ("deadlines", "days_after"), 2, "9"),
    "RECON_SLACK_WEBHOOK_URL": (
        "https://hooks.slack.com/services/T/B/x",
        "https://hooks.slack.com/services/T/B/segredo",
        ("notifier", "slack_webhook_url"),
        "https://hooks.slack.com/services/T/B/segredo",
        None,
    ),
    "RECON_SMTP_HOST": ("smtp.local", "mail.empresa", ("notifier", "smtp_host"), "mail.empresa", None),
    "RECON_SMTP_PORT": ("25", "2525", ("notifier", "smtp_port"), 2525, "smtp"),
    "RECON_SMTP_USER": ("u", "recon", ("notifier", "smtp_user"), "recon", None),
    "RECON_SMTP_PASSWORD": ("p", "s3nh4", ("notifier", "smtp_password"), "s3nh4", None),
    "RECON_SMTP_FROM": (
        "conciliacao@localhost",
        "recon@empresa",
        ("notifier", "smtp_from"),
        "recon@empresa",
        None,
    ),
    "RECON_SMTP_TO": ("a@b", "a@b,c@d", ("notifier", "smtp_to"), "a@b,c@d", None),
    "RECON_SMTP_TLS": ("none", "STARTTLS", ("notifier", "smtp_tls"), "starttls", "tls"),
    "RECON_SMTP_CA_FILE": (
        "/etc/ssl/ca.pem",
        "/etc/ca2.pem",
        ("notifier", "smtp_ca_file"),
        "/etc/ca2.pem",
        None,
    ),
    "RECON_UI_BASE_URL": (
        "http://x",
        "https://dagster.empresa",
        ("notifier", "ui_base_url"),
        "https://dagster.empresa",
        None,
    ),
    "RECON_RUNBOOK_URL": (
        "https://git.example.com/recon/blob/main/docs/runbook.md",
        "https://git.empresa/recon/docs/runbook.md",
        ("notifier", "runbook_url"),
        "https://git.empresa/recon/docs/runbook.md",
        None,
    ),
    "RECON_GLUE_DATABASE": ("", "conciliacao", ("glue_catalog", "database"), "conciliacao", "Conciliacao-BR"),
    "RECON_PAINEL_URL": (
        "http://127.0.0.1:8501",
        "https://painel.empresa/recon",
        ("notifier", "painel_url"),
        "https://painel.empresa/recon",
        None,
    ),
    "RECON_DUCKDB_MEMORY_LIMIT": ("512MB", "2GB", ("duckdb_engine", "memory_limit"), "2GB", None),
    "RECON_DUCKDB_THREADS": ("4", "2", ("duckdb_engine", "threads"), 2, "0"),
    "RECON_DUCKDB_TEMP_DIR": (
        "recon_data/tmp",
        "/tmp/duck",
        ("duckdb_engine", "temp_dir"),
        "/tmp/duck",
        None,
    ),
    "RECON_DIVERGENCE_BUCKETS": ("0", "8", ("duckdb_engine", "divergence_buckets"), 8, "-1"),
    "RECON_ENGINE": ("duckdb", "spark", ("duckdb_engine", "engine"), "spark", "polars"),
    "RECON_SPARK_MASTER": ("local[2]", "local[4]", ("duckdb_engine", "spark_master"), "local[4]", None),
    "RECON_SPARK_DRIVER_MEMORY": ("1g", "4g", ("duckdb_engine", "spark_driver_memory"), "4g", None),
}
# Read by `recon painel` only (resources_config.painel_access), not by the code location.
DASHBOARD_VARIABLES = {
    "RECON_PAINEL_LOGIN": ("nenhum", "oidc"),
    "RECON_PAINEL_LOGIN_PROVEDOR": ("", "microsoft"),
}
# Read by reconciliation_assets/partitions.py at import: covered by the subprocess test below.
AT_IMPORT = {"RECON_PARTITIONS_START": "2023-06-01"}
# The instance's variables (deploy/render_instance_config.py), tested in tests/test_postgres_instance.py.
INSTANCE_VARIABLES = {setting.env for setting in render.SETTINGS}
EXPECTED_HINT = {
    "RECON_S3_SSE": "use AES256 ou aws:kms",
    "RECON_INGRESS_LOOKBACK_DAYS": "use um inteiro de 0 a 60",
    "RECON_INTERNAL_DB_STATEMENT_TIMEOUT_S": "não é um número inteiro",
    "RECON_INTERNAL_DB_CONNECT_TIMEOUT_S": "use um inteiro >= 1",
    "RECON_MAX_AGE_DAYS": "use um inteiro >= 0",
    "RECON_SEVERITY_HIGH": "use um decimal >= 0",
    "RECON_SEVERITY_MEDIUM": "use um decimal >= 0",
    "RECON_SLA_MINUTES": "use um inteiro >= 1",
    "RECON_SLA_WARN_MINUTES": "não é um número inteiro",
    "RECON_QUARANTINE_RATE_MAX": "não é um número (use ponto decimal",
    "RECON_DIVERGENCE_RATE_MAX": "taxa fora de [0, 1]",
    "RECON_MIN_TAXA_CASAMENTO": "taxa fora de [0, 1]",
    "RECON_MAX_TAXA_DIVERGENCIA": "taxa fora de [0, 1]",
    "RECON_RETRY_BASE_SECONDS": "RECON_RETRY_BASE_SECONDS deve ser >= 0",
    "RECON_MAX_RETRIES": "RECON_MAX_RETRIES deve estar entre 0 e 10",
    "RECON_FILE_DEADLINE": "use HH:MM",
    "RECON_DIVERGENCES_DEADLINE": "use HH:MM",
    "RECON_DEADLINE_DAYS_AFTER": "use um inteiro de 0 a 7",
    "RECON_SMTP_PORT": "não é um número inteiro",
    "RECON_SMTP_TLS": "use none, starttls ou ssl",
    "RECON_DUCKDB_THREADS": "use um inteiro >= 1",
    "RECON_DIVERGENCE_BUCKETS": "use 0 = automático, ou um inteiro de 1 a 4096",
    "RECON_ENGINE": "use duckdb ou spark",
    "RECON_GLUE_DATABASE": "use letras minúsculas, números e _",
}
SECRETS = ("s3gredo", "segredo", "s3nh4")


def _names_in(*paths: Path) -> set[str]:
    found: set[str] = set()
    for path in paths:
        found |= set(re.findall(r"RECON_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")))
    return found - {"RECON_SMTP"}


def test_the_table_covers_every_variable_of_the_code_and_the_docs():
    in_code = _names_in(
        ROOT / "reconciliation_assets/resources_config.py", *sorted((ROOT / "resources").glob("*.py"))
    )
    assert in_code == set(VARIABLES) | set(DASHBOARD_VARIABLES)
    documented = _names_in(ROOT / "README.md", ROOT / "docs/deploy.md", ROOT / "docs/alerts.md")
    assert documented - INSTANCE_VARIABLES - set(AT_IMPORT) <= set(VARIABLES) | set(DASHBOARD_VARIABLES)
    assert set(DASHBOARD_VARIABLES) <= documented
    assert set(EXPECTED_HINT) == {k for k, v in VARIABLES.items() if v[4] is not None}


def _resolved(monkeypatch, values: dict[str, str]) -> dict[str, object]:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    defs = build_defs()
    defs.resolve_job_def("daily_reconciliation")
    repo = defs.get_repository_def()
    resources = {k: v for k, v in repo.get_top_level_resources().items() if k in defs.resources}
    # Dagster's own set-up path: EnvVars resolved from the environment, resources rebuilt from values.
    with dg.build_resources(resources) as built:
        return {key: getattr(built, key) for key in defs.resources}


@pytest.mark.parametrize("which", ["default", "non_default"])
def test_every_variable_set_loads_and_resolves(monkeypatch, which):
    values = {name: spec[0] if which == "default" else spec[1] for name, spec in VARIABLES.items()}
    built = _resolved(monkeypatch, values)
    for name, (default, _other, (resource, field), expected, _bad) in VARIABLES.items():
        got = getattr(built[resource], field)
        if which == "non_default":
            assert got == expected, name
        else:
            want = type(expected)(default) if not isinstance(expected, str) else default
            if name == "RECON_SMTP_TLS":
                want = "none"
            assert got == want, name
    assert built["rules"].high == (Decimal("2500.50") if which == "non_default" else Decimal("1000.00"))


def test_values_from_the_environment_stay_envvars_for_the_ui(monkeypatch):
    monkeypatch.setenv("RECON_SMTP_TLS", "ssl")
    monkeypatch.setenv("RECON_INTERNAL_DB_STATEMENT_TIMEOUT_S", "60")
    defs = build_defs()
    assert defs.resources["notifier"].smtp_tls == dg.EnvVar("RECON_SMTP_TLS")
    assert isinstance(defs.resources["notifier"].smtp_tls, dg.EnvVar)
    assert (
        defs.resources["internal_base"].statement_timeout_s.env_var_name
        == "RECON_INTERNAL_DB_STATEMENT_TIMEOUT_S"
    )


@pytest.mark.parametrize("name", sorted(EXPECTED_HINT))
def test_an_invalid_value_names_the_variable_and_what_it_accepts(monkeypatch, name):
    monkeypatch.setenv(name, VARIABLES[name][4])
    monkeypatch.setenv("RECON_SMTP_PASSWORD", "s3nh4")
    with pytest.raises(ConfigurationError) as failed:
        build_defs()
    assert failed.value.problems == [
        f"{name}={VARIABLES[name][4]!r}: " + failed.value.problems[0].split(": ", 1)[1]
    ]
    assert EXPECTED_HINT[name] in failed.value.problems[0]
    assert "s3nh4" not in str(failed.value)


def test_all_invalid_variables_are_reported_together(monkeypatch):
    for name in ("RECON_SMTP_TLS", "RECON_QUARANTINE_RATE_MAX", "RECON_DEADLINE_DAYS_AFTER"):
        monkeypatch.setenv(name, VARIABLES[name][4])
    with pytest.raises(ConfigurationError) as failed:
        build_defs()
    assert [p.split("=", 1)[0] for p in failed.value.problems] == [
        "RECON_QUARANTINE_RATE_MAX",
        "RECON_DEADLINE_DAYS_AFTER",
        "RECON_SMTP_TLS",
    ]


def _validate(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    dagster = Path(sys.executable).with_name("dagster")
    return subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "reconciliation_assets.definitions"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        # PYTHONPATH: the checkout this test runs in, not whichever copy is installed in the venv.
        env={
            "PATH": str(dagster.parent),
            "PYTHONPATH": str(ROOT),
            "DAGSTER_HOME": str(tmp_path),
            "HOME": str(tmp_path),
            **env,
        },
    )


def test_the_operators_check_accepts_every_non_default_and_refuses_a_bad_value(tmp_path):
    good = {name: spec[1] for name, spec in VARIABLES.items()} | AT_IMPORT
    proc = _validate(good, tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    bad = _validate({**good, "RECON_SMTP_TLS": "tls"}, tmp_path)
    assert bad.returncode == 1, bad.stdout[-2000:] + bad.stderr[-2000:]
    output = bad.stdout + bad.stderr
    assert "RECON_SMTP_TLS='tls': modo TLS do SMTP inválido: 'tls' (use none, starttls ou ssl)" in output
    assert not any(secret in output for secret in SECRETS)


def test_the_resolved_value_is_validated_again_when_the_run_sets_the_resource_up(monkeypatch):
    """The run worker resolves the EnvVar itself: a value changed after the load is still checked."""
    monkeypatch.setenv("RECON_SMTP_TLS", "ssl")
    notifier = build_defs().resources["notifier"]
    monkeypatch.setenv("RECON_SMTP_TLS", "tls")
    with (
        pytest.raises(dg.DagsterResourceFunctionError, match="notifier") as failed,
        dg.build_resources({"notifier": notifier}),
    ):
        pass
    assert "modo TLS do SMTP inválido: 'tls' (use none, starttls ou ssl)" in str(failed.value.__cause__)


def test_the_dashboards_login_variables_resolve_and_a_bad_one_is_named(monkeypatch):
    from reconciliation_assets.resources_config import painel_access

    assert (painel_access().login, painel_access().provedor) == ("nenhum", "")
    for name, (_default, other) in DASHBOARD_VARIABLES.items():
        monkeypatch.setenv(name, other)
    assert (painel_access().login, painel_access().provedor) == ("oidc", "microsoft")
    monkeypatch.setenv("RECON_PAINEL_LOGIN", "sso")
    with pytest.raises(ConfigurationError) as failed:
        painel_access()
    assert failed.value.problems == ["RECON_PAINEL_LOGIN='sso': login inválido: 'sso' (use nenhum ou oidc)"]
